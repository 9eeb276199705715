/**
 * The check every product makes (docs/delivery.md, "The client algorithm"), as the Python reference
 * client `mds/device/client.py` does it:
 * 1. GET the index with If-None-Match; verify it; refuse a sequence below the highest seen (rollback);
 *    on a network error, a bad signature or a rollback use the last good index (the answer is `stale`);
 *    with none stored, fail with a typed error;
 * 2. GET the device's segment once (immutable), its SHA-256 checked against the index;
 * 3. `decideEach` locally, fetching a whitelist shard only when a candidate needs it;
 * 4. ask the dynamic check API only when the first match is dynamic, and reuse that answer for the same
 *    sequence and device context.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { type Answer, type Product, answerFor } from "./answers.js";
import { type Candidate, type IndexDocument, NeedsServer, decideEach, findSegment, readSegment } from "./delivery.js";
import { type PublicKeys, openEnvelope, publicKeys } from "./envelope.js";
import { MdsError, type MdsErrorKind } from "./errors.js";
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
  /** Answered from the CDN manifests alone (no dynamic API call). */
  static: boolean;
  sequence: number | null;
  /** subject → chosen candidate ID. */
  chosen: Record<string, string>;
  /** Answered from the last good manifest; `refused` says why the fresh one was not used. */
  stale: boolean;
  refused: MdsErrorKind | null;
  refusedMessage: string | null;
  /** `"GET /<path> <status>"` / `"POST /client/v1/<product>/check <status>"`, in order. */
  requests: string[];
}

interface State {
  etags: Record<string, string>;
  sequences: Record<string, number>;
  dynamic: Record<string, Answer>;
}

const STATE_KEY = "delivery/state.json";
const FALLBACK_KINDS = new Set<MdsErrorKind>(["network", "server", "signature", "unknown-key", "format", "rollback"]);

export class DeliveryClient {
  readonly appId: string;
  readonly workspaceId: string;
  readonly storage: Storage;
  readonly clock: () => number;
  readonly cdnUrl: string;
  readonly apiUrl: string;
  private readonly keys: PublicKeys;
  private readonly fetchImpl: Fetch;

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

  /** One product check for a device context; throws `MdsError` only when there is no last good state. */
  async check(product: Product, context: DeviceContext | Device): Promise<Decision> {
    const device = context instanceof Device ? context : Device.fromContext(context);
    const decision: Decision = { answer: {}, static: true, sequence: null, chosen: {}, stale: false, refused: null, refusedMessage: null, requests: [] };
    const path = `m/${this.appId}/${this.workspaceId}/${product}/${device.platform}/index.json`;
    let index: IndexDocument | null;
    try {
      index = await this.index(path, decision);
    } catch (error) {
      if (!(error instanceof MdsError) || !FALLBACK_KINDS.has(error.kind)) throw error;
      const stored = await this.storage.get(`files/${path}`);
      if (stored === null) throw error;
      index = openEnvelope<IndexDocument>(stored, this.keys, "index").document;
      decision.stale = true;
      decision.refused = error.kind;
      decision.refusedMessage = error.message;
    }
    if (index === null) {
      decision.answer = await this.askServer(product, device, decision);
      return decision;
    }
    decision.sequence = Number(index.sequence);
    const entry = findSegment(index, device.clientVersion);
    const file = await this.immutable(entry.path, decision);
    if (file === null) throw new MdsError("format", `segment ${entry.path} is missing`);
    const candidates = readSegment(file, entry, this.keys);
    const membership = new PublishedMembership(index.whitelists, (p) => this.immutable(p, decision), this.keys);
    const now = Math.floor(this.clock());
    let chosen: Record<string, Candidate>;
    try {
      chosen = await decideEach(candidates, device, membership, now);
    } catch (error) {
      if (!(error instanceof NeedsServer)) throw error;
      decision.answer = await this.dynamicAnswer(product, device, decision, path, error.candidate, now);
      return decision;
    }
    for (const [subject, candidate] of Object.entries(chosen)) decision.chosen[subject] = candidate.id;
    decision.answer = answerFor(product, chosen, device);
    return decision;
  }

  private async dynamicAnswer(product: Product, device: Device, decision: Decision, base: string, candidate: Candidate, now: number): Promise<Answer> {
    const state = await this.state();
    const context = hex(sha256(utf8(canonicalJson(device.toContext())))).slice(0, 32);
    const scope = `${base}@${decision.sequence}:`;
    const key = `${scope}${candidate.id}:${context}`;
    const cached = state.dynamic[key];
    if (cached !== undefined && (candidate.notAfter === null || now < candidate.notAfter)) {
      decision.chosen[candidate.subject] = candidate.id;
      return cached;
    }
    const answer = await this.askServer(product, device, decision);
    const fresh = await this.state();
    const kept: Record<string, Answer> = {};
    for (const [k, v] of Object.entries(fresh.dynamic)) if (k.startsWith(scope)) kept[k] = v;
    kept[key] = answer;
    fresh.dynamic = kept;
    await setJson(this.storage, STATE_KEY, fresh);
    return answer;
  }

  private async askServer(product: Product, device: Device, decision: Decision): Promise<Answer> {
    decision.static = false;
    const path = `/client/v1/${product}/check`;
    const body = JSON.stringify({ appId: this.appId, workspaceId: this.workspaceId, ...device.toContext() });
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
    return (await reply.json()) as Answer;
  }

  /** A network request; transport failures become `MdsError` kind `network`. */
  async send(url: string, init?: Parameters<Fetch>[1]): Promise<FetchResponse> {
    try {
      return await this.fetchImpl(url, init);
    } catch (error) {
      throw new MdsError("network", `could not reach ${url} (${(error as Error).message})`, { cause: error });
    }
  }

  private async index(path: string, decision: Decision): Promise<IndexDocument | null> {
    const state = await this.state();
    const etag = state.etags[path];
    const stored = await this.storage.get(`files/${path}`);
    const headers: Record<string, string> = etag && stored !== null ? { "If-None-Match": etag } : {};
    const reply = await this.send(`${this.cdnUrl}/${path}`, { headers });
    decision.requests.push(`GET /${path} ${reply.status}`);
    if (reply.status === 404) return null;
    if (reply.status === 304 && stored !== null) return openEnvelope<IndexDocument>(stored, this.keys, "index").document;
    if (reply.status !== 200) throw new MdsError("server", `GET ${path}: HTTP ${reply.status}`, { status: reply.status });
    const body = new Uint8Array(await reply.arrayBuffer());
    const index = openEnvelope<IndexDocument>(body, this.keys, "index").document;
    const seen = state.sequences[path] ?? 0;
    if (Number(index.sequence) < seen) throw new MdsError("rollback", `index sequence ${index.sequence} is older than ${seen} (rollback refused)`);
    await this.storage.set(`files/${path}`, body);
    state.etags[path] = reply.headers.get("ETag") ?? "";
    state.sequences[path] = Number(index.sequence);
    await setJson(this.storage, STATE_KEY, state);
    return index;
  }

  /** An immutable CDN file (segment, shard): fetched once, then read from storage. */
  async immutable(path: string, decision: Decision): Promise<Uint8Array | null> {
    const stored = await this.storage.get(`files/${path}`);
    if (stored !== null) return stored;
    const reply = await this.send(`${this.cdnUrl}/${path}`);
    decision.requests.push(`GET /${path} ${reply.status}`);
    if (reply.status === 404) return null;
    if (reply.status !== 200) throw new MdsError("server", `GET ${path}: HTTP ${reply.status}`, { status: reply.status });
    const body = new Uint8Array(await reply.arrayBuffer());
    await this.storage.set(`files/${path}`, body);
    return body;
  }

  private async state(): Promise<State> {
    const state = (await getJson<Partial<State>>(this.storage, STATE_KEY)) ?? {};
    return { etags: state.etags ?? {}, sequences: state.sequences ?? {}, dynamic: state.dynamic ?? {} };
  }
}
