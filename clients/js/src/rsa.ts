/**
 * RSASSA-PKCS1-v1_5 / SHA-256 verification with BigInt (RFC 8017 §8.2.2) — the `.amr` and hotpatch
 * signatures. One code path on every runtime: React Native (Hermes) has BigInt but no WebCrypto, and a
 * public-key operation with e = 65537 is 17 modular squarings, about a millisecond for 2048 bits.
 * Verification uses only public data, so it needs no constant-time arithmetic.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { MdsError } from "./errors.js";
import { fromBase64 } from "./text.js";

export interface RsaPublicKey {
  n: bigint;
  e: bigint;
  size: number; // modulus length in bytes
}

// DigestInfo prefix for SHA-256 (RFC 8017 §9.2, note 1)
const SHA256_PREFIX = [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];

function readDer(bytes: Uint8Array, at: number): { tag: number; start: number; end: number } {
  const tag = bytes[at];
  let length = bytes[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count < 1 || count > 4) throw new Error("bad DER length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[start + i];
    start += count;
  }
  if (start + length > bytes.length) throw new Error("DER runs past its end");
  return { tag, start, end: start + length };
}

function bigintOf(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

/** A PEM public key: SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN RSA PUBLIC KEY`). */
export function rsaPublicKey(pem: string): RsaPublicKey {
  try {
    const body = pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
    let der = fromBase64(body);
    let outer = readDer(der, 0);
    if (/BEGIN PUBLIC KEY/.test(pem)) {
      const algorithm = readDer(der, outer.start);
      const bits = readDer(der, algorithm.end);
      if (bits.tag !== 0x03) throw new Error("no BIT STRING");
      der = der.subarray(bits.start + 1, bits.end); // skip the unused-bits byte
      outer = readDer(der, 0);
    }
    const n = readDer(der, outer.start);
    const e = readDer(der, n.end);
    if (n.tag !== 0x02 || e.tag !== 0x02) throw new Error("no INTEGERs");
    const modulus = bigintOf(der.subarray(n.start, n.end));
    return { n: modulus, e: bigintOf(der.subarray(e.start, e.end)), size: Math.ceil(modulus.toString(16).length / 2) };
  } catch (error) {
    throw new MdsError("format", `not an RSA public key PEM (${(error as Error).message})`, { cause: error });
  }
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/** Whether `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of `data` under `key`. */
export function rsaVerify(key: RsaPublicKey, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== key.size) return false;
  const s = bigintOf(signature);
  if (s >= key.n) return false;
  let m = modPow(s, key.e, key.n);
  const em = new Uint8Array(key.size);
  for (let i = key.size - 1; i >= 0; i--, m >>= 8n) em[i] = Number(m & 0xffn);
  const digest = sha256(data);
  const tLength = SHA256_PREFIX.length + digest.length;
  if (key.size < tLength + 11) return false;
  let ok = em[0] === 0x00 && em[1] === 0x01;
  const separator = key.size - tLength - 1;
  for (let i = 2; i < separator; i++) ok = ok && em[i] === 0xff;
  ok = ok && em[separator] === 0x00;
  for (let i = 0; i < SHA256_PREFIX.length; i++) ok = ok && em[separator + 1 + i] === SHA256_PREFIX[i];
  for (let i = 0; i < digest.length; i++) ok = ok && em[separator + 1 + SHA256_PREFIX.length + i] === digest[i];
  return ok;
}
