/** Signed manifest files: `{"v": 1, "keyId", "payload": base64url(JSON), "sig": base64url(Ed25519)}`. */
import { ed25519 } from "@noble/curves/ed25519.js";
import { MdsError } from "./errors.js";
import { fromBase64, fromUtf8 } from "./text.js";

/** Key ID → raw 32-byte Ed25519 public key (`GET .../signing-keys` gives them as base64). */
export type PublicKeys = Readonly<Record<string, Uint8Array>>;

export function publicKeys(base64Keys: Readonly<Record<string, string>>): PublicKeys {
  const out: Record<string, Uint8Array> = {};
  for (const [keyId, value] of Object.entries(base64Keys)) out[keyId] = fromBase64(value);
  return out;
}

export interface Opened<T> {
  document: T;
  /** The exact payload bytes that were verified (their SHA-256 is what an index lists). */
  payload: Uint8Array;
}

/** Verify the signature over the exact payload bytes, then parse them. Never re-serialises. */
export function openEnvelope<T = Record<string, unknown>>(file: Uint8Array | string, keys: PublicKeys, what: string): Opened<T> {
  let data: { v?: unknown; keyId?: unknown; payload?: unknown; sig?: unknown };
  let payload: Uint8Array;
  let signature: Uint8Array;
  try {
    data = JSON.parse(typeof file === "string" ? file : fromUtf8(file));
    if (data === null || typeof data !== "object") throw new Error("not an object");
    if (data.v !== 1) throw new Error(`unsupported envelope version ${JSON.stringify(data.v)}`);
    if (typeof data.keyId !== "string" || typeof data.payload !== "string" || typeof data.sig !== "string") {
      throw new Error("keyId, payload and sig must be strings");
    }
    payload = fromBase64(data.payload);
    signature = fromBase64(data.sig);
  } catch (error) {
    throw new MdsError("format", `${what} is not a manifest envelope (${(error as Error).message})`, { cause: error });
  }
  const key = Object.prototype.hasOwnProperty.call(keys, data.keyId) ? keys[data.keyId as string] : undefined;
  if (key === undefined) throw new MdsError("unknown-key", `${what} is signed by key ${data.keyId}, which this app does not pin`);
  let valid = false;
  try {
    valid = signature.length === 64 && ed25519.verify(signature, payload, key, { zip215: false });
  } catch {
    valid = false;
  }
  if (!valid) throw new MdsError("signature", `${what}: signature does not verify with the pinned key ${data.keyId}`);
  try {
    return { document: JSON.parse(fromUtf8(payload)) as T, payload };
  } catch (error) {
    throw new MdsError("format", `${what}: the signed payload is not JSON`, { cause: error });
  }
}
