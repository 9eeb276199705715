/**
 * Which release a device gets: `decideEach` over a segment's candidates (in priority order), once per
 * subject, exactly as the server's `domain/delivery.py`. A dynamic candidate that matches stops the walk
 * with `NeedsServer`: that is when a client asks the dynamic check API.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { MdsError } from "./errors.js";
import { type Opened, type PublicKeys, openEnvelope } from "./envelope.js";
import { CompiledTarget, type Device } from "./targeting.js";
import { hex } from "./text.js";
import { type CutJson, type Version, cutPosition, segmentIndex } from "./versions.js";

export interface CandidateJson {
  id: string;
  target: unknown;
  payload?: Record<string, unknown>;
  dynamic?: boolean;
  notAfter?: number | null;
  subject?: string;
}

export class Candidate {
  readonly id: string;
  readonly target: CompiledTarget;
  readonly payload: Record<string, unknown>;
  readonly dynamic: boolean;
  readonly notAfter: number | null;
  readonly subject: string;

  constructor(json: CandidateJson) {
    this.id = String(json.id);
    this.target = CompiledTarget.fromJson(json.target);
    this.payload = json.payload || {};
    this.dynamic = Boolean(json.dynamic);
    this.notAfter = json.notAfter === undefined || json.notAfter === null ? null : Number(json.notAfter);
    this.subject = json.subject ? String(json.subject) : "";
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

/** subject → chosen candidate. Throws `NeedsServer` at the first dynamic match. */
export async function decideEach(
  candidates: readonly Candidate[],
  device: Device,
  membership: Membership | null,
  now: number,
): Promise<Record<string, Candidate>> {
  const chosen: Record<string, Candidate> = {};
  for (const candidate of candidates) {
    if (candidate.subject in chosen || !live(candidate, device, now)) continue;
    if (candidate.target.whitelistIds.length && !(await listed(candidate, device, membership))) continue;
    if (candidate.dynamic) throw new NeedsServer(candidate);
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
): Record<string, Candidate> {
  const chosen: Record<string, Candidate> = {};
  for (const candidate of candidates) {
    if (candidate.subject in chosen || !live(candidate, device, now)) continue;
    const lists = candidate.target.whitelistIds;
    if (lists.length) {
      const identity = device.identity;
      if (!identity || membership === null || !lists.some((id) => membership.contains(id, identity))) continue;
    }
    if (candidate.dynamic) throw new NeedsServer(candidate);
    chosen[candidate.subject] = candidate;
  }
  return chosen;
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

export interface IndexDocument {
  schema: 1;
  sequence: number;
  cuts: CutJson[];
  segments: FileEntry[];
  unversioned: FileEntry;
  whitelists: Record<string, WhitelistEntry>;
  notAfter?: number | null;
}

export type WhitelistEntry =
  | { type: "normal"; salt: string; version: string; path: string }
  | { type: "regex"; patterns: string[] };

const positions = new WeakMap<object, string[]>();

/** The index entry of the segment a device with `clientVersion` reads (null: `unversioned`). */
export function findSegment(index: IndexDocument, clientVersion: Version | null): FileEntry {
  if (clientVersion === null) return index.unversioned;
  let cuts = positions.get(index.cuts);
  if (cuts === undefined) positions.set(index.cuts, (cuts = index.cuts.map(cutPosition)));
  return index.segments[segmentIndex(clientVersion, cuts)];
}

/** A segment file, verified: signature, then its payload SHA-256 against the signed index entry. */
export function readSegment(file: Uint8Array | string, entry: FileEntry, keys: PublicKeys): Candidate[] {
  const opened: Opened<{ candidates: CandidateJson[] }> = openEnvelope(file, keys, `segment ${entry.path}`);
  if (hex(sha256(opened.payload)) !== entry.sha256) {
    throw new MdsError("digest", `segment ${entry.path} is not the one the index lists`);
  }
  return opened.document.candidates.map((c) => new Candidate(c));
}

