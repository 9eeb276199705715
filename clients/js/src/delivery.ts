/**
 * Which release a device gets: `decideEach` over a segment's candidates (in priority order), once per
 * subject, exactly as the server's `domain/delivery.py`. A dynamic (time-window) candidate that matches is
 * decided by `claim` when given (the device's grants: held → chosen); without one, a `closed` (full) entry
 * is skipped and an open one stops the walk with `NeedsServer`: that is when a client asks the dynamic
 * check API.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { MdsError } from "./errors.js";
import { type Opened, type PublicKeys, openEnvelope } from "./envelope.js";
import { CompiledTarget, type Device } from "./targeting.js";
import { canonicalJson, hex, utf8 } from "./text.js";
import { type CutJson, type Version, cutPosition, segmentIndex } from "./versions.js";

export interface CandidateJson {
  id: string;
  target: unknown;
  payload?: Record<string, unknown>;
  dynamic?: boolean;
  notAfter?: number | null;
  subject?: string;
  closed?: boolean;
}

export class Candidate {
  readonly id: string;
  readonly target: CompiledTarget;
  readonly payload: Record<string, unknown>;
  readonly dynamic: boolean;
  readonly notAfter: number | null;
  readonly subject: string;
  /** A dynamic entry whose places are all taken: only devices holding a grant for it get it. */
  readonly closed: boolean;

  constructor(json: CandidateJson) {
    this.id = String(json.id);
    this.target = CompiledTarget.fromJson(json.target);
    this.payload = json.payload || {};
    this.dynamic = Boolean(json.dynamic);
    this.notAfter = json.notAfter === undefined || json.notAfter === null ? null : Number(json.notAfter);
    this.subject = json.subject ? String(json.subject) : "";
    this.closed = Boolean(json.closed);
  }
}

/** The first matching candidate is dynamic: ask the dynamic check API. */
export class NeedsServer extends Error {
  constructor(readonly candidate: Candidate) {
    super(candidate.id);
    this.name = "NeedsServer";
  }
}

/** "Is this identity on that list?" — possibly after fetching one shard. */
export interface Membership {
  contains(whitelistId: string, identity: string): boolean | Promise<boolean>;
}

/**
 * Whether a dynamic candidate that matches is the device's: true (it holds a place), false (skip it), or
 * throw `NeedsServer` (only the dynamic API can tell).
 */
export type Claim = (candidate: Candidate) => boolean;

/**
 * subject → chosen candidate. A dynamic match is decided by `claim`; without one a closed entry is
 * skipped and an open one throws `NeedsServer`.
 */
export async function decideEach(
  candidates: readonly Candidate[],
  device: Device,
  membership: Membership | null,
  now: number,
  claim: Claim | null = null,
): Promise<Record<string, Candidate>> {
  const chosen: Record<string, Candidate> = {};
  for (const candidate of candidates) {
    if (candidate.subject in chosen || !live(candidate, device, now)) continue;
    if (candidate.target.whitelistIds.length && !(await listed(candidate, device, membership))) continue;
    if (candidate.dynamic && !claimed(candidate, claim)) continue;
    chosen[candidate.subject] = candidate;
  }
  return chosen;
}

/** `decideEach` with membership that never needs I/O (shards already loaded): no promises. */
export function decideEachNow(
  candidates: readonly Candidate[],
  device: Device,
  membership: { contains(whitelistId: string, identity: string): boolean } | null,
  now: number,
  claim: Claim | null = null,
): Record<string, Candidate> {
  const chosen: Record<string, Candidate> = {};
  for (const candidate of candidates) {
    if (candidate.subject in chosen || !live(candidate, device, now)) continue;
    const lists = candidate.target.whitelistIds;
    if (lists.length) {
      const identity = device.identity;
      if (!identity || membership === null || !lists.some((id) => membership.contains(id, identity))) continue;
    }
    if (candidate.dynamic && !claimed(candidate, claim)) continue;
    chosen[candidate.subject] = candidate;
  }
  return chosen;
}

function claimed(candidate: Candidate, claim: Claim | null): boolean {
  if (claim !== null) return claim(candidate);
  if (candidate.closed) return false; // full: nobody new gets it, so there is nothing to ask
  throw new NeedsServer(candidate);
}

function live(candidate: Candidate, device: Device, now: number): boolean {
  return (candidate.notAfter === null || now < candidate.notAfter) && candidate.target.admits(device);
}

async function listed(candidate: Candidate, device: Device, membership: Membership | null): Promise<boolean> {
  const identity = device.identity;
  if (membership === null) throw new Error(`${candidate.id} references whitelists: pass a Membership`);
  if (!identity) return false;
  for (const id of candidate.target.whitelistIds) if (await membership.contains(id, identity)) return true;
  return false;
}

// --- index and segments --------------------------------------------------------------------------

export interface FileEntry {
  path: string;
  sha256: string;
}

/** One product's part of the index: which segment file holds which client versions. */
export interface Section {
  /** SHA-256 of the section's canonical JSON without `digest`. */
  digest?: string;
  cuts: CutJson[];
  segments: FileEntry[];
  unversioned: FileEntry;
  /** The whitelist IDs its segments name (entries in the index's `whitelists`). */
  whitelists?: string[];
  notAfter?: number | null;
}

/** The index of one (tenant, platform), schema 2 (docs/delivery.md, "Index document"). */
export interface IndexDocument {
  schema: 2;
  appId?: string;
  workspaceId?: string;
  platform?: string;
  sequence: number;
  publishedAt?: string;
  /** Epoch seconds: the earliest end of a time-bounded entry of any product. */
  notAfter?: number | null;
  poll?: { seconds?: number; staleIfError?: number };
  /** product → section; a product with nothing published has none. */
  products: Record<string, Section>;
  whitelists: Record<string, WhitelistEntry>;
}

export type WhitelistEntry =
  | { type: "normal"; salt: string; version: string; path: string }
  | { type: "regex"; patterns: string[] };

const positions = new WeakMap<object, string[]>();

/** The entry of the segment a device with `clientVersion` reads in a product's section (null: `unversioned`). */
export function findSegment(section: Pick<Section, "cuts" | "segments" | "unversioned">, clientVersion: Version | null): FileEntry {
  if (clientVersion === null) return section.unversioned;
  let cuts = positions.get(section.cuts);
  if (cuts === undefined) positions.set(section.cuts, (cuts = section.cuts.map(cutPosition)));
  return section.segments[segmentIndex(clientVersion, cuts)];
}

/** The product's section of an index (null: nothing published for it). */
export function productSection(index: IndexDocument, product: string): Section | null {
  const products = index.products;
  if (products === null || typeof products !== "object" || !Object.prototype.hasOwnProperty.call(products, product)) return null;
  return products[product] ?? null;
}

/** What tells a product's change: SHA-256 of the section's canonical JSON without its `digest`. */
export function sectionDigest(section: Section): string {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section)) if (k !== "digest") rest[k] = v;
  return hex(sha256(utf8(canonicalJson(rest))));
}

/** A segment file, verified: signature, then its payload SHA-256 against the signed index entry. */
export function readSegment(file: Uint8Array | string, entry: FileEntry, keys: PublicKeys): Candidate[] {
  const opened: Opened<{ candidates: CandidateJson[] }> = openEnvelope(file, keys, `segment ${entry.path}`);
  if (hex(sha256(opened.payload)) !== entry.sha256) {
    throw new MdsError("digest", `segment ${entry.path} is not the one the index lists`);
  }
  return opened.document.candidates.map((c) => new Candidate(c));
}

