/** Text normalisation shared by every client (docs/targeting.md, "Input grammar"). */

// Python str.strip()'s whitespace: Unicode White_Space plus \x1c-\x1f; not U+FEFF (JS trim() differs).
const SPACE = new Set(
  "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000",
);

export function strip(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && SPACE.has(value[start])) start++;
  while (end > start && SPACE.has(value[end - 1])) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/** How city and model compare: trimmed, Unicode default lower case (not case folding). */
export function normalizeText(value: string): string {
  return strip(value).toLowerCase();
}

const NETWORK_SYNONYMS: Record<string, string> = {
  "2g": "2g", "3g": "3g", "4g": "4g", lte: "4g", "5g": "5g", nr: "5g",
  wifi: "wifi", "wi-fi": "wifi", wi_fi: "wifi", "wi fi": "wifi", wlan: "wifi",
  wwan: "wwan", cellular: "wwan",
};

/** The Android mPaaS SDK's `NetworkUtils.getNetworkType` codes, read on the device side only. */
const ANDROID_NETWORK_CODES: Record<string, string> = { "1": "2g", "2": "3g", "3": "wifi", "4": "4g" };

/** Canonical network token (`Wi-Fi` → `wifi`, `LTE` → `4g`, `WWAN` → `wwan`); unknown names come back lower-cased. */
export function normalizeNetwork(value: string): string {
  const folded = normalizeText(value);
  return Object.prototype.hasOwnProperty.call(NETWORK_SYNONYMS, folded) ? NETWORK_SYNONYMS[folded] : folded;
}

/** The network a device reports: an Android mPaaS code (`3` → `wifi`) or a name (`normalizeNetwork`). */
export function reportedNetwork(value: string): string {
  const code = strip(value);
  return Object.prototype.hasOwnProperty.call(ANDROID_NETWORK_CODES, code) ? ANDROID_NETWORK_CODES[code] : normalizeNetwork(value);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Standard or URL-safe base64, padding optional. Throws on any other character. */
export function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  if (clean.length % 4 === 1) throw new Error("base64 text has a bad length");
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const char of clean) {
    const digit = B64_INDEX.get(char);
    if (digit === undefined) throw new Error(`base64 text has the character ${JSON.stringify(char)}`);
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? B64[n & 63] : "=";
  }
  return out;
}

/** JSON with sorted keys and no spaces (what the server signs; used here for cache keys). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.keys(value as object)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(",")}}`;
}
