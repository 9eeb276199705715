/**
 * The check round (docs/delivery.md, "The client algorithm", client protocol 2), as the Python reference
 * client `mds/device/client.py` does it:
 * 1. GET the platform's one index `m/<app>/<ws>/<platform>/index.json` with If-None-Match; verify it;
 *    refuse a sequence below the highest seen (rollback); on a network error, a 5xx, a bad signature, an
 *    unknown key or a rollback use the last good index (the answers are `stale`); with none stored, fail
 *    with a typed error. One conditional request answers every product of the round;
 * 2. per product, its section `products[<product>]`: GET the device's segment once (immutable), its
 *    SHA-256 checked against the section;
 * 3. `decideEach` locally, fetching a whitelist shard only when a candidate needs it; a time-window entry
 *    the device holds a valid grant for is chosen, a closed one it holds none for is skipped;
 * 4. ask the dynamic check API (`"protocol": 2`) only at an open time-window entry it holds no grant for,
 *    keep the grants the answer carries, and reuse the answer for the same section digest and device context.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { type Answer, type Product, answerFor } from "./answers.js";
import {
  type Candidate, type FileEntry, type IndexDocument, NeedsServer, type Section, decideEach, findSegment, productSection, readSegment,
  sectionDigest,
} from "./delivery.js";
import { type PublicKeys, openEnvelope, publicKeys } from "./envelope.js";
import { MdsError, type MdsErrorKind } from "./errors.js";
import { type Grant, type GrantEnvelope, type GrantRefusal, grantKey, grantRefusal, identityHash, openGrant } from "./grants.js";
import { PublishedMembership } from "./membership.js";
import { type Storage, getJson, setJson } from "./storage.js";
import { Device, type DeviceContext } from "./targeting.js";
import { canonicalJson, hex, utf8 } from "./text.js";

export type Fetch = (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: unknown }) => Promise<FetchResponse>;

/** The part of the Fetch API `Response` the SDK uses. */
export interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
  json(): Promise<unknown>;
  readonly body?: unknown;
}

export interface ClientOptions {
  cdnUrl: string;
  apiUrl: string;
  appId: string;
  workspaceId: string;
  /** Key ID → base64 raw Ed25519 public key (the manifest keys the app pins). */
  publicKeys: Readonly<Record<string, string>>;
  storage: Storage;
  fetch?: Fetch;
  /** Epoch seconds. */
  clock?: () => number;
}

export interface Decision {
  answer: Answer;
  /** Answered from the CDN manifests (and the grants the device holds) alone: no dynamic API call. */
  static: boolean;
  /** The index's sequence (null: no index is published yet). */
  sequence: number | null;
  /** subject → chosen candidate ID. */
  chosen: Record<string, string>;
  /** Answered from the last good manifest; `refused` says why the fresh one was not used. */
  stale: boolean;
  refused: MdsErrorKind | null;
  refusedMessage: string | null;
  /** `"GET /<path> <status>"` / `"POST /client/v1/<product>/check <status>"`, in order (the index request first). */
  requests: string[];
  /** Epoch seconds: when to check again (now + the index's poll interval, or its `notAfter` when sooner). */
  nextCheckAt: number | null;
}

/** One check round: a decision per product, from one conditional index request. */
export interface Round {
  decisions: Partial<Record<Product, Decision>>;
  /** Products whose decision failed (a segment that does not verify, an API refusal); the others stand. */
  errors: Partial<Record<Product, MdsError>>;
  /** Every request of the round, the index request first. */
  requests: string[];
  stale: boolean;
  refused: MdsErrorKind | null;
  refusedMessage: string | null;
  sequence: number | null;
  nextCheckAt: number | null;
}

export const PRODUCTS: readonly Product[] = ["upgrade", "h5", "config", "hotpatch"];

interface State {
  etags: Record<string, string>;
  sequences: Record<string, number>;
  /** `<product>@<section digest>:<candidate>:<context>` → the API's answer. */
  dynamic: Record<string, Answer>;
  /** `<product>|<candidate>|<identity hash>` → the grant envelope the API returned. */
  grants: Record<string, GrantEnvelope>;
}

const STATE_KEY = "delivery/state.json";
const FALLBACK_KINDS = new Set<MdsErrorKind>(["network", "server", "signature", "unknown-key", "format", "rollback"]);
// the deprecated per-product index of client protocol 1, which earlier SDK versions kept on the device
const PROTOCOL_1_INDEX = /^m\/[^/]+\/[^/]+\/(upgrade|h5|config|hotpatch)\/(android|ios)\/index\.json$/;
const SEGMENTS_KEPT = 32;

export class DeliveryClient {
  readonly appId: string;
  readonly workspaceId: string;
  readonly storage: Storage;
  readonly clock: () => number;
  readonly cdnUrl: string;
  readonly apiUrl: string;
  private readonly keys: PublicKeys;
  private readonly fetchImpl: Fetch;
  /** Verified segments by SHA-256 (content-addressed, so never stale). */
  private readonly segments = new Map<string, Candidate[]>();

  constructor(options: ClientOptions) {
    this.appId = options.appId;
    this.workspaceId = options.workspaceId;
    this.storage = options.storage;
    this.keys = publicKeys(options.publicKeys);
    this.cdnUrl = options.cdnUrl.replace(/\/+$/, "");
    this.apiUrl = options.apiUrl.replace(/\/+$/, "");
    this.clock = options.clock ?? (() => Date.now() / 1000);
    const fetchImpl = options.fetch ?? (globalThis as { fetch?: Fetch }).fetch;
    if (!fetchImpl) throw new Error("no fetch: pass options.fetch");
    this.fetchImpl = fetchImpl;
  }

  /**
   * One product's decision: a round of one product (one conditional index request). Throws `MdsError`
   * when there is no last good index, or when the product's decision failed.
   */
  async check(product: Product, context: DeviceContext | Device): Promise<Decision> {
    const round = await this.checkRound(context, [product]);
    const error = round.errors[product];
    if (error !== undefined) throw error;
    const decision = round.decisions[product]!;
    decision.requests = round.requests;
    return decision;
  }

  /**
   * `product`'s decision in `round` (its failure thrown as in `check`), or a check of its own when no
   * round is given or the round did not check it. What the product clients use (`{ round }` options).
   */
  async decisionFor(product: Product, context: DeviceContext | Device, round?: Round): Promise<Decision> {
    const decision = round?.decisions[product];
    const error = round?.errors[product];
    if (error !== undefined) throw error;
    return decision ?? this.check(product, context);
  }

  /**
   * Every product in `products` from ONE conditional index request (a 304 when nothing changed). A
   * product's own failure is in `errors` and leaves the others standing; throws `MdsError` only when the
   * index could not be read and no last good one is stored.
   */
  async checkRound(context: DeviceContext | Device, products: readonly Product[] = PRODUCTS): Promise<Round> {
    const device = context instanceof Device ? context : Device.fromContext(context);
    const round: Round = {
      decisions: {}, errors: {}, requests: [], stale: false, refused: null, refusedMessage: null, sequence: null, nextCheckAt: null,
    };
    const path = `m/${this.appId}/${this.workspaceId}/${device.platform}/index.json`;
    let index: IndexDocument | null;
    try {
      index = await this.index(path, round.requests);
    } catch (error) {
      if (!(error instanceof MdsError) || !FALLBACK_KINDS.has(error.kind)) throw error;
      const stored = await this.storage.get(`files/${path}`);
      if (stored === null) throw error;
      index = schema2(openEnvelope<IndexDocument>(stored, this.keys, "index").document);
      round.stale = true;
      round.refused = error.kind;
      round.refusedMessage = error.message;
    }
    const now = Math.floor(this.clock());
    if (index !== null) {
      round.sequence = Number(index.sequence);
      round.nextCheckAt = nextCheck(index, now);
    }
    const grants = (await this.state()).grants;
    for (const product of products) {
      // the index says when to look again, also with nothing published for this product
      const decision: Decision = {
        answer: {}, static: true, sequence: round.sequence, chosen: {}, stale: round.stale, refused: round.refused,
        refusedMessage: round.refusedMessage, requests: [], nextCheckAt: round.nextCheckAt,
      };
      const section = index === null ? null : productSection(index, product);
      try {
        if (index === null || section === null) {
          decision.answer = await this.askServer(product, device, decision); // nothing published for it yet
        } else {
          await this.decide(product, device, index, section, grants, decision, now);
        }
        round.decisions[product] = decision;
      } catch (error) {
        if (!(error instanceof MdsError)) throw error;
        round.errors[product] = error;
      }
      round.requests.push(...decision.requests);
    }
    return round;
  }

  private async decide(
    product: Product, device: Device, index: IndexDocument, section: Section, grants: State["grants"], decision: Decision, now: number,
  ): Promise<void> {
    const candidates = await this.segment(findSegment(section, device.clientVersion), decision.requests);
    const membership = new PublishedMembership(index.whitelists ?? {}, (path) => this.immutable(path, decision.requests), this.keys);
    // a time-window entry: held (a valid grant) → chosen; closed → skipped; else only the API can tell
    const held = (candidate: Candidate): boolean => {
      if (this.holds(grants, product, candidate.id, device, now) === null) return true;
      if (candidate.closed) return false;
      throw new NeedsServer(candidate);
    };
    let chosen: Record<string, Candidate>;
    try {
      chosen = await decideEach(candidates, device, membership, now, held);
    } catch (error) {
      if (!(error instanceof NeedsServer)) throw error;
      // what the API's answer for this context depends on: this product's section, not the whole index
      const scope = `${product}@${sectionDigest(section)}`;
      decision.answer = await this.dynamicAnswer(product, device, decision, scope, error.candidate, now);
      return;
    }
    for (const [subject, candidate] of Object.entries(chosen)) decision.chosen[subject] = candidate.id;
    decision.answer = answerFor(product, chosen, device);
  }

  /**
   * Ask the API once per published section and device context: the answer for the same context cannot
   * change until the section does (a granted place stays granted, a full quota stays full) or the entry
   * ends. Any change of the context (version, network, city...) asks again.
   */
  private async dynamicAnswer(product: Product, device: Device, decision: Decision, scope: string, candidate: Candidate, now: number): Promise<Answer> {
    const state = await this.state();
    const context = hex(sha256(utf8(canonicalJson(device.toContext())))).slice(0, 32);
    const key = `${scope}:${candidate.id}:${context}`;
    const cached = state.dynamic[key];
    if (cached !== undefined && (candidate.notAfter === null || now < candidate.notAfter)) {
      decision.chosen[candidate.subject] = candidate.id;
      return cached;
    }
    const answer = await this.askServer(product, device, decision);
    const fresh = await this.state();
    const kept: Record<string, Answer> = {};
    for (const [k, v] of Object.entries(fresh.dynamic)) {
      // this product's answers of older sections are of no use any more (nor protocol 1's, keyed by index path)
      const owner = /^([a-z0-9]+)@/.exec(k);
      if (owner !== null && (owner[1] !== product || k.startsWith(`${scope}:`))) kept[k] = v;
    }
    kept[key] = answer;
    fresh.dynamic = kept;
    await setJson(this.storage, STATE_KEY, fresh);
    return answer;
  }

  // --- grants --------------------------------------------------------------------------------------

  /**
   * Why the device holds no usable grant for `candidateId` of `product` at `now` (null: it holds one):
   * `missing` (none stored), else what the stored grant fails, verified again as at every decision —
   * signature by a pinned key, workspace, release, device identity, time.
   */
  async grantRefusal(
    product: Product, candidateId: string, context: DeviceContext | Device, now: number = Math.floor(this.clock()),
  ): Promise<GrantRefusal | "missing" | null> {
    const device = context instanceof Device ? context : Device.fromContext(context);
    return this.holds((await this.state()).grants, product, candidateId, device, now);
  }

  /** The grants the device keeps that still verify with the pinned keys (any device, any time). */
  async grants(): Promise<Grant[]> {
    const found: Grant[] = [];
    for (const envelope of Object.values((await this.state()).grants)) {
      try {
        found.push(openGrant(envelope, this.keys));
      } catch {
        // not held; dropped with the next answer of the API
      }
    }
    return found;
  }

  private holds(grants: State["grants"], product: string, candidateId: string, device: Device, now: number): GrantRefusal | "missing" | null {
    const key = grantKey(product, candidateId, identityHash(device.identity ?? ""));
    if (!Object.prototype.hasOwnProperty.call(grants, key)) return "missing";
    return grantRefusal(grants[key], this.keys, { appId: this.appId, workspaceId: this.workspaceId, product, candidate: candidateId, device, now });
  }

  /**
   * Keep the grants of an API answer that verify, are for this workspace and still run; drop the stored ones that ran
   * out. The SDK does this with every answer of the check API; an app whose own server calls that API hands the
   * answer's `grants` in here.
   */
  async keepGrants(envelopes: unknown, now: number = Math.floor(this.clock())): Promise<void> {
    const state = await this.state();
    const kept: State["grants"] = {};
    const fresh = Array.isArray(envelopes) ? envelopes : [];
    for (const envelope of [...Object.values(state.grants), ...fresh]) {
      let grant: Grant;
      try {
        grant = openGrant(envelope as GrantEnvelope, this.keys);
      } catch {
        continue; // not a grant, or not one of the pinned keys: the device simply asks again next time
      }
      if (grant.appId === this.appId && grant.workspaceId === this.workspaceId && grant.until > now) {
        kept[grantKey(grant.product, grant.candidate, grant.identity)] = envelope as GrantEnvelope;
      }
    }
    if (canonicalJson(kept) === canonicalJson(state.grants)) return;
    state.grants = kept;
    await setJson(this.storage, STATE_KEY, state);
  }

  private async askServer(product: Product, device: Device, decision: Decision): Promise<Answer> {
    decision.static = false;
    const path = `/client/v1/${product}/check`;
    const body = JSON.stringify({ appId: this.appId, workspaceId: this.workspaceId, ...device.toContext(), protocol: 2 });
    const reply = await this.send(`${this.apiUrl}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    decision.requests.push(`POST ${path} ${reply.status}`);
    if (reply.status !== 200) {
      let detail = "";
      try {
        detail = JSON.stringify(await reply.json());
      } catch {
        detail = "";
      }
      throw new MdsError("server", `the check API refused the request: HTTP ${reply.status} ${detail}`, { status: reply.status });
    }
    const answer = await reply.json().catch(() => null);
    if (answer === null || typeof answer !== "object" || Array.isArray(answer)) throw new MdsError("format", "the check API's answer is not a JSON object");
    const { grants, ...rest } = answer as Answer;
    await this.keepGrants(grants, Math.floor(this.clock())); // also drops the stored ones that ran out
    return rest;
  }

  /** A network request; transport failures become `MdsError` kind `network`. */
  async send(url: string, init?: Parameters<Fetch>[1]): Promise<FetchResponse> {
    try {
      return await this.fetchImpl(url, init);
    } catch (error) {
      throw new MdsError("network", `could not reach ${url} (${(error as Error).message})`, { cause: error });
    }
  }

  private async index(path: string, requests: string[]): Promise<IndexDocument | null> {
    const state = await this.state();
    const etag = state.etags[path];
    const stored = await this.storage.get(`files/${path}`);
    const headers: Record<string, string> = etag && stored !== null ? { "If-None-Match": etag } : {};
    const reply = await this.send(`${this.cdnUrl}/${path}`, { headers });
    requests.push(`GET /${path} ${reply.status}`);
    if (reply.status === 404) return null;
    if (reply.status === 304 && stored !== null) return schema2(openEnvelope<IndexDocument>(stored, this.keys, "index").document);
    if (reply.status !== 200) throw new MdsError("server", `GET ${path}: HTTP ${reply.status}`, { status: reply.status });
    const body = new Uint8Array(await reply.arrayBuffer());
    const index = schema2(openEnvelope<IndexDocument>(body, this.keys, "index").document);
    const seen = state.sequences[path] ?? 0;
    if (index.sequence < seen) throw new MdsError("rollback", `index sequence ${index.sequence} is older than ${seen} (rollback refused)`);
    await this.storage.set(`files/${path}`, body);
    for (const old of [...Object.keys(state.etags), ...Object.keys(state.sequences)]) {
      if (!PROTOCOL_1_INDEX.test(old)) continue; // what an SDK of protocol 1 kept on this device
      delete state.etags[old];
      delete state.sequences[old];
      await this.storage.delete(`files/${old}`);
    }
    state.etags[path] = reply.headers.get("ETag") ?? "";
    state.sequences[path] = index.sequence;
    await setJson(this.storage, STATE_KEY, state);
    return index;
  }

  /** A product's segment, verified against its section's entry (kept in memory by SHA-256: content-addressed). */
  private async segment(entry: FileEntry, requests: string[]): Promise<Candidate[]> {
    const known = this.segments.get(entry.sha256);
    if (known !== undefined) return known;
    const file = await this.immutable(entry.path, requests);
    if (file === null) throw new MdsError("format", `segment ${entry.path} is missing`);
    const candidates = readSegment(file, entry, this.keys);
    if (this.segments.size >= SEGMENTS_KEPT) this.segments.delete(this.segments.keys().next().value as string);
    this.segments.set(entry.sha256, candidates);
    return candidates;
  }

  /** An immutable CDN file (segment, shard): fetched once, then read from storage. */
  async immutable(path: string, requests: string[]): Promise<Uint8Array | null> {
    const stored = await this.storage.get(`files/${path}`);
    if (stored !== null) return stored;
    const reply = await this.send(`${this.cdnUrl}/${path}`);
    requests.push(`GET /${path} ${reply.status}`);
    if (reply.status === 404) return null;
    if (reply.status !== 200) throw new MdsError("server", `GET ${path}: HTTP ${reply.status}`, { status: reply.status });
    const body = new Uint8Array(await reply.arrayBuffer());
    await this.storage.set(`files/${path}`, body);
    return body;
  }

  private async state(): Promise<State> {
    const state = (await getJson<Partial<State>>(this.storage, STATE_KEY)) ?? {};
    return { etags: state.etags ?? {}, sequences: state.sequences ?? {}, dynamic: state.dynamic ?? {}, grants: state.grants ?? {} };
  }
}

/** The combined index of a platform (schema 2); anything else is refused as `format`. */
function schema2(index: IndexDocument): IndexDocument {
  const data = index as unknown as Record<string, unknown> | null;
  if (data === null || typeof data !== "object" || data.schema !== 2 || !Number.isInteger(data.sequence)) {
    throw new MdsError("format", `the index is not a schema-2 index (schema ${JSON.stringify(data?.schema ?? null)})`);
  }
  return index;
}

/** When to check again: now + the index's poll interval, or its `notAfter` when that is sooner and still ahead. */
export function nextCheck(index: Pick<IndexDocument, "poll" | "notAfter">, now: number): number {
  const poll = Number(index.poll?.seconds) || 0;
  const due = now + poll;
  const notAfter = Number(index.notAfter) || 0;
  return notAfter > now ? Math.min(due, notAfter) : due;
}
