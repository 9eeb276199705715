// Builds signed indexes and segments the way the publisher does, with the kit's fixed test key.
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { sectionDigest } from "../src/delivery.js";
import { canonicalJson, hex, toBase64, utf8 } from "../src/text.js";

const SEED = sha256(utf8("mds-conformance/current"));
const PUBLIC = ed25519.getPublicKey(SEED);
export const KEY_ID = hex(sha256(PUBLIC)).slice(0, 16);
export const PUBLIC_KEYS = { [KEY_ID]: toBase64(PUBLIC) };
export const INDEX = "m/APP/default/android/index.json";

const b64url = (bytes: Uint8Array) => toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export function seal(document: unknown, seed: Uint8Array = SEED): string {
  const payload = utf8(canonicalJson(document));
  const keyId = hex(sha256(ed25519.getPublicKey(seed))).slice(0, 16);
  return canonicalJson({ keyId, payload: b64url(payload), sig: b64url(ed25519.sign(payload, seed)), v: 1 });
}

export const EVERYONE = { schema: 1, platform: "all", clientVersions: [], rules: [], whitelistIds: [], rollout: null };

/**
 * `{path: file text}`: one segment per product (for every version) and the platform's one index
 * `m/APP/default/android/index.json` (schema 2) with a section for each product given.
 */
export function publishAll(products: Record<string, object[]>, sequence: number, options: { pollSeconds?: number } = {}): Record<string, string> {
  const files: Record<string, string> = {};
  const sections: Record<string, object> = {};
  const ends: number[] = [];
  for (const [product, candidates] of Object.entries(products)) {
    const document = { schema: 1, candidates };
    const digest = hex(sha256(utf8(canonicalJson(document))));
    const entry = { path: `m/APP/default/${product}/android/seg/${KEY_ID}/${digest}.json`, sha256: digest };
    const notAfters = candidates.map((c) => (c as { notAfter?: number }).notAfter).filter((n): n is number => typeof n === "number");
    const notAfter = notAfters.length ? Math.min(...notAfters) : null;
    if (notAfter !== null) ends.push(notAfter);
    const section = { cuts: [], segments: [entry], unversioned: entry, whitelists: [], notAfter };
    sections[product] = { ...section, digest: sectionDigest(section) };
    files[entry.path] = seal(document);
  }
  const index = {
    schema: 2, appId: "APP", workspaceId: "default", platform: "android", sequence, publishedAt: "2027-01-15T08:00:00.000000+00:00",
    notAfter: ends.length ? Math.min(...ends) : null, poll: { seconds: options.pollSeconds ?? 600, staleIfError: 604800 },
    products: sections, whitelists: {},
  };
  files[INDEX] = seal(index);
  return files;
}

/** One product published (the index has only its section). */
export function publish(product: string, candidates: object[], sequence: number): Record<string, string> {
  return publishAll({ [product]: candidates }, sequence);
}
