// Builds signed indexes and segments the way the publisher does, with the kit's fixed test key.
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { canonicalJson, hex, toBase64, utf8 } from "../src/text.js";

const SEED = sha256(utf8("mds-conformance/current"));
const PUBLIC = ed25519.getPublicKey(SEED);
export const KEY_ID = hex(sha256(PUBLIC)).slice(0, 16);
export const PUBLIC_KEYS = { [KEY_ID]: toBase64(PUBLIC) };

const b64url = (bytes: Uint8Array) => toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export function seal(document: unknown): string {
  const payload = utf8(canonicalJson(document));
  return canonicalJson({ keyId: KEY_ID, payload: b64url(payload), sig: b64url(ed25519.sign(payload, SEED)), v: 1 });
}

export const EVERYONE = { schema: 1, platform: "all", clientVersions: [], rules: [], whitelistIds: [], rollout: null };

/** One segment for every version: `{path: file text}` with the index at `m/APP/default/<product>/android/index.json`. */
export function publish(product: string, candidates: object[], sequence: number): Record<string, string> {
  const base = `m/APP/default/${product}/android/`;
  const document = { schema: 1, candidates };
  const digest = hex(sha256(utf8(canonicalJson(document))));
  const entry = { path: `${base}seg/${KEY_ID}/${digest}.json`, sha256: digest };
  const index = { schema: 1, sequence, cuts: [], segments: [entry], unversioned: entry, whitelists: {}, notAfter: null };
  return { [entry.path]: seal(document), [`${base}index.json`]: seal(index) };
}
