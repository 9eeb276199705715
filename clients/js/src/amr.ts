/**
 * Verifying an `.amr` H5 package while it streams in (docs/formats.md §2): CERT.json, its RSA
 * signature, then every file against the manifest (SHA-256 and size), canonical ustar headers and zero
 * padding, the end-of-archive blocks, and optionally the SHA-256 of all bytes from `h5.json`.
 * Nothing is returned (so nothing can be installed) unless every check passed.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { MdsError } from "./errors.js";
import { type RsaPublicKey, rsaVerify } from "./rsa.js";
import { fromUtf8, hex, utf8 } from "./text.js";

const BLOCK = 512;
const MANIFEST = "CERT.json";
const SIGNATURE = "CERT.json.sig";
const MAX_MANIFEST = 32 * 1024 * 1024;
const MAX_SIGNATURE = 2048;
const SAFE_PATH = /^[A-Za-z0-9\-_.~]+(?:\/[A-Za-z0-9\-_.~]+)*$/;

export interface AmrFile {
  path: string;
  size: number;
  sha256: string;
}

export interface VerifiedAmr {
  h5Id: string;
  version: string;
  manifest: Record<string, unknown>;
  files: AmrFile[];
  /** path → content, only for a package that verified completely. */
  contents: Map<string, Uint8Array>;
  sha256: string;
  size: number;
}

type Chunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

class Reader {
  private buffer: Uint8Array = new Uint8Array(0);
  private readonly iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  private done = false;
  readonly hash = sha256.create();
  size = 0;

  constructor(source: Chunks) {
    this.iterator = Symbol.asyncIterator in source ? (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]() : (source as Iterable<Uint8Array>)[Symbol.iterator]();
  }

  private async fill(n: number): Promise<boolean> {
    const pending = [this.buffer];
    let length = this.buffer.length;
    while (length < n && !this.done) {
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else {
        pending.push(next.value);
        length += next.value.length;
      }
    }
    if (pending.length > 1) {
      // one copy per fill, however many chunks it took
      this.buffer = new Uint8Array(length);
      let at = 0;
      for (const chunk of pending) {
        this.buffer.set(chunk, at);
        at += chunk.length;
      }
    }
    return length >= n;
  }

  async exact(n: number, what: string): Promise<Uint8Array> {
    if (!(await this.fill(n))) throw new MdsError("truncated", `the package is truncated (inside ${what})`);
    const out = this.buffer.slice(0, n);
    this.buffer = this.buffer.subarray(n);
    this.hash.update(out);
    this.size += n;
    return out;
  }

  /** Whether anything but zeros follows. */
  async restIsZeros(): Promise<boolean> {
    let zeros = true;
    for (;;) {
      if (this.buffer.length === 0 && !(await this.fill(1))) return zeros;
      const chunk = this.buffer;
      this.buffer = new Uint8Array(0);
      this.hash.update(chunk);
      this.size += chunk.length;
      if (zeros && chunk.some((b) => b !== 0)) zeros = false;
    }
  }
}

function octal(value: number, digits: number): string {
  return value.toString(8).padStart(digits, "0");
}

/** The header `amr.build` writes for (name, size): Python's `TarInfo.tobuf(USTAR_FORMAT)`. */
export function canonicalHeader(name: string, size: number): Uint8Array | null {
  let prefix = "";
  let short = name;
  if (utf8(name).length > 100) {
    const parts = name.split("/");
    let found = false;
    for (let i = 1; i < parts.length; i++) {
      prefix = parts.slice(0, i).join("/");
      short = parts.slice(i).join("/");
      if (utf8(prefix).length <= 155 && utf8(short).length <= 100) {
        found = true;
        break;
      }
    }
    if (!found) return null;
  }
  if (size >= 8 ** 11) return null;
  const header = new Uint8Array(BLOCK);
  const put = (at: number, text: string) => header.set(utf8(text), at);
  put(0, short);
  put(100, "0000644\0");
  put(108, "0000000\0");
  put(116, "0000000\0");
  put(124, `${octal(size, 11)}\0`);
  put(136, "00000000000\0");
  put(148, "        ");
  put(156, "0");
  put(257, "ustar\x0000");
  put(345, prefix);
  let sum = 0;
  for (const b of header) sum += b;
  put(148, `${octal(sum, 6)}\0 `);
  return header;
}

function field(raw: Uint8Array, start: number, length: number): string {
  const bytes = raw.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return fromUtf8(end < 0 ? bytes : bytes.subarray(0, end));
}

async function nextHeader(reader: Reader, where: string): Promise<{ name: string; size: number } | null> {
  const raw = await reader.exact(BLOCK, where);
  if (raw.every((b) => b === 0)) return null;
  let name: string;
  let size: number;
  try {
    const prefix = field(raw, 345, 155);
    name = prefix ? `${prefix}/${field(raw, 0, 100)}` : field(raw, 0, 100);
    size = parseInt(field(raw, 124, 12).trim() || "0", 8);
  } catch (error) {
    throw new MdsError("format", `the package has a damaged archive header ${where}`, { cause: error });
  }
  const canonical = Number.isFinite(size) ? canonicalHeader(name, size) : null;
  if (canonical === null || canonical.some((b, i) => b !== raw[i])) {
    throw new MdsError("format", `the package has a non-canonical archive header for ${JSON.stringify(name)}`);
  }
  return { name, size };
}

async function padding(reader: Reader, size: number, name: string): Promise<void> {
  const pad = (BLOCK - (size % BLOCK)) % BLOCK;
  if ((await reader.exact(pad, name)).some((b) => b !== 0)) throw new MdsError("format", `the package has non-zero padding after ${name}`);
}

async function small(reader: Reader, name: string, limit: number): Promise<Uint8Array> {
  const info = await nextHeader(reader, `before ${name}`);
  if (info === null || info.name !== name) {
    throw new MdsError("format", `the package must start with ${MANIFEST} and ${SIGNATURE}; found ${info ? info.name : "the end"}`);
  }
  if (info.size > limit) throw new MdsError("format", `${name} is ${info.size} bytes; at most ${limit} are allowed`);
  const data = await reader.exact(info.size, name);
  await padding(reader, info.size, name);
  return data;
}

function manifestFiles(value: unknown): AmrFile[] {
  if (!Array.isArray(value)) throw new MdsError("format", "the manifest has no files list");
  const seen = new Set<string>();
  const files = value.map((entry: { path?: unknown; size?: unknown; sha256?: unknown }) => {
    const path = entry && entry.path;
    if (typeof path !== "string" || !SAFE_PATH.test(path) || path.split("/").includes("..")) {
      throw new MdsError("format", `the manifest lists an unsafe path ${JSON.stringify(path)}`);
    }
    if (!Number.isInteger(entry.size) || (entry.size as number) < 0 || typeof entry.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(entry.sha256)) {
      throw new MdsError("format", `manifest entry ${path} has no valid size or sha256`);
    }
    if (seen.has(path.toLowerCase())) throw new MdsError("format", `the manifest lists ${path} twice`);
    seen.add(path.toLowerCase());
    return { path, size: entry.size as number, sha256: entry.sha256 };
  });
  for (const path of seen) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      if (seen.has(parts.slice(0, i).join("/"))) throw new MdsError("format", `the manifest lists ${path} below a file`);
    }
  }
  return files;
}

/**
 * Verify a full `.amr` from its bytes or a stream of chunks (e.g. `response.body`).
 * Throws `MdsError` of kind `signature`, `digest`, `truncated`, `extra` or `format`.
 */
export async function verifyAmr(source: Uint8Array | Chunks, key: RsaPublicKey, options: { expectedSha256?: string | null } = {}): Promise<VerifiedAmr> {
  const reader = new Reader(source instanceof Uint8Array ? [source] : source);
  const manifestBytes = await small(reader, MANIFEST, MAX_MANIFEST);
  const signature = await small(reader, SIGNATURE, MAX_SIGNATURE);
  if (!rsaVerify(key, manifestBytes, signature)) {
    throw new MdsError("signature", `signature of ${MANIFEST} does not match the public key; do not install it`);
  }
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(fromUtf8(manifestBytes));
  } catch (error) {
    throw new MdsError("format", `${MANIFEST} is not JSON`, { cause: error });
  }
  if (manifest === null || typeof manifest !== "object" || manifest.format !== "mds-amr/1") throw new MdsError("format", `${MANIFEST} format is not mds-amr/1`);
  const { h5Id, version } = manifest;
  if (typeof h5Id !== "string" || !/^\d{8}$/.test(h5Id) || typeof version !== "string") throw new MdsError("format", `${MANIFEST} has no valid h5Id and version`);
  const files = manifestFiles(manifest.files);
  const contents = new Map<string, Uint8Array>();
  for (const expected of files) {
    const name = `${h5Id}/${expected.path}`;
    const info = await nextHeader(reader, `before ${name}`);
    if (info === null) throw new MdsError("truncated", `the package is missing file ${expected.path} listed in the manifest`);
    if (info.name !== name) throw new MdsError("extra", `the package has file ${info.name} where the manifest lists ${expected.path}`);
    if (info.size !== expected.size) throw new MdsError("digest", `file ${expected.path} is ${info.size} bytes; the manifest says ${expected.size}`);
    const data = await reader.exact(info.size, name);
    if (hex(sha256(data)) !== expected.sha256) throw new MdsError("digest", `file ${expected.path} does not match its SHA-256 in the manifest`);
    await padding(reader, info.size, name);
    contents.set(expected.path, data);
  }
  const extra = await nextHeader(reader, "after the last file");
  if (extra !== null) throw new MdsError("extra", `the package has file ${extra.name} that the manifest does not list`);
  if (!(await reader.restIsZeros())) throw new MdsError("extra", "the package has data after the end of the archive");
  const digest = hex(reader.hash.digest());
  if (options.expectedSha256 && digest !== options.expectedSha256.toLowerCase()) {
    throw new MdsError("digest", "SHA-256 of the package does not match the descriptor");
  }
  return { h5Id, version, manifest, files, contents, sha256: digest, size: reader.size };
}
