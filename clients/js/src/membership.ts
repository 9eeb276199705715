/**
 * Whitelist membership through what is published: salted SHA-256 hashes in 256 signed shards (one
 * fetched per list and user, only when a candidate gets that far) and regex lists' patterns.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { MdsError } from "./errors.js";
import type { Membership, WhitelistEntry } from "./delivery.js";
import { type PublicKeys, openEnvelope } from "./envelope.js";
import { hex, utf8 } from "./text.js";

/** Returns the file at a CDN path (verified later), or null when there is none. */
export type FetchFile = (path: string) => Promise<Uint8Array | string | null>;

const patterns = new Map<string, RegExp>();

/** Full match, as the server's `regex` engine does for the common subset. */
export function fullMatch(pattern: string, text: string): boolean {
  let compiled = patterns.get(pattern);
  if (compiled === undefined) {
    compiled = new RegExp(`^(?:${pattern})$`, "u");
    patterns.set(pattern, compiled);
  }
  return compiled.test(text);
}

export class PublishedMembership implements Membership {
  private readonly shards = new Map<string, Set<string>>(); // "<list>/<shard>" → hash tails

  constructor(
    private readonly whitelists: Readonly<Record<string, WhitelistEntry>>,
    private readonly fetchFile: FetchFile,
    private readonly keys: PublicKeys,
  ) {}

  /** Synchronous when the shard is loaded already. */
  contains(whitelistId: string, identity: string): boolean | Promise<boolean> {
    const entry = Object.prototype.hasOwnProperty.call(this.whitelists, whitelistId) ? this.whitelists[whitelistId] : undefined;
    if (entry === undefined) return false;
    if (entry.type === "regex") return entry.patterns.some((p) => fullMatch(p, identity));
    const hashed = hex(sha256(utf8(`${entry.salt}:${identity}`)));
    const shard = hashed.slice(0, 2);
    const loaded = this.shards.get(`${whitelistId}/${shard}`);
    if (loaded !== undefined) return loaded.has(hashed.slice(2));
    return this.load(whitelistId, entry, shard).then((hashes) => hashes.has(hashed.slice(2)));
  }

  private async load(whitelistId: string, entry: { version: string; path: string }, shard: string): Promise<Set<string>> {
    const path = `${entry.path}${shard}.json`;
    const file = await this.fetchFile(path);
    if (file === null) throw new MdsError("format", `whitelist shard ${path} is missing`);
    const { document } = openEnvelope<{ whitelistId: string; version: string; hashes: string[] }>(file, this.keys, `whitelist shard ${path}`);
    if (document.whitelistId !== whitelistId || document.version !== entry.version) {
      throw new MdsError("format", `whitelist shard ${path} belongs to another list or version`);
    }
    const hashes = new Set(document.hashes);
    this.shards.set(`${whitelistId}/${shard}`, hashes);
    return hashes;
  }
}
