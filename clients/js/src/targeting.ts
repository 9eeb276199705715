/**
 * The rule engine, read from the compiled schema-1 JSON that manifests carry (docs/targeting.md).
 * `CompiledTarget.admits(device)` checks everything but whitelists (pure, synchronous); whitelist
 * membership may need a shard fetch, so `delivery.ts` asks it only for devices everything else admits.
 */
import { SHA256 } from "@noble/hashes/sha2.js";
import { MdsError, validation } from "./errors.js";
import { normalizeNetwork, normalizeText, reportedNetwork, strip } from "./text.js";
import { type RangeJson, Version, VersionRange } from "./versions.js";

export type Platform = "android" | "ios";
export const BUCKETS = 10_000;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * SHA-256 in place, for rollout buckets. `sha256(utf8(text))` was most of a decision's time, nearly all
 * of it per-call garbage (a hash object, DataViews, the encoded text, the digest): this keeps one buffer
 * and one hash state, pads the message itself, runs noble's block function and reads the digest's first
 * 8 bytes (words A and B) from the state. It never runs `update` / `digest`, so it may grow `buffer`.
 */
class BucketHash extends SHA256 {
  bucket(text: string): number {
    const room = text.length * 3 + 72; // any UTF-8 of `text` and its padding
    if (this.buffer.length < room) this.view = new DataView((this.buffer = new Uint8Array(room)).buffer);
    const { buffer, view } = this;
    const n = encoder.encodeInto(text, buffer).written;
    const end = (n + 72) & ~63; // whole blocks: the message, 0x80, zeros, its length in bits (64-bit)
    buffer[n] = 0x80;
    buffer.fill(0, n + 1, end - 4); // also the length's high word: texts are far below 512 MB
    view.setUint32(end - 4, n * 8);
    initial._cloneInto(this); // back to the initial state
    for (let at = 0; at < end; at += 64) this.process(view, at);
    return ((this.A >>> 0) * (2 ** 32 % BUCKETS) + (this.B >>> 0)) % BUCKETS; // exact: below 2 ** 53
  }
}
const initial = new SHA256();
const encoder = new TextEncoder();
const bucketHash = new BucketHash();

/** `bucket = uint64_be(sha256(utf8(salt + ":" + identity))[0:8]) mod 10000`. */
export function bucket(salt: string, identity: string): number {
  return bucketHash.bucket(`${salt}:${identity}`);
}

/** What a device reports, as JSON (mPaaS names). Integer IDs are read as their decimal text. */
export interface DeviceContext {
  platform: string;
  userId?: string | number | null;
  deviceId?: string | number | null;
  clientVersion?: string | null;
  osVersion?: string | null;
  model?: string | null;
  city?: string | null;
  netType?: string | null;
  channel?: string | null;
}

function absent(value: unknown): boolean {
  // what Python's `value or None` treats as absent
  if (value === null || value === undefined || value === false || value === 0 || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && Object.keys(value as object).length === 0;
}

function identityText(value: unknown, field: string): string | null {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "number" && Number.isInteger(value)) {
    if (Math.abs(value) > MAX_SAFE) throw validation(field, `an integer ID must be at most ${MAX_SAFE}; send it as a string`);
    return String(value);
  }
  if (typeof value !== "string") throw validation(field, "must be a string");
  return value;
}

function optionalText(context: Record<string, unknown>, field: string, kind = "a string"): string | null {
  const value = context[field];
  if (absent(value)) return null;
  if (typeof value !== "string") throw validation(field, `must be ${kind}`);
  return value;
}

export class Device {
  readonly platform: Platform;
  readonly userId: string | null;
  readonly deviceId: string | null;
  readonly clientVersion: Version | null;
  readonly osVersion: Version | null;
  readonly model: string | null;
  readonly city: string | null;
  readonly netType: string | null;
  readonly channel: string | null;
  readonly identity: string | null;
  /** Normalised values rules compare, by rule type. */
  readonly keys: Readonly<Record<RuleType, string | null>>;

  private constructor(context: Record<string, unknown>) {
    const platform = context.platform;
    if (platform === undefined || platform === null || platform === "") {
      throw new MdsError("validation", "platform is required", { field: "platform" });
    }
    const parsed = typeof platform === "string" ? strip(platform).toLowerCase() : "";
    if (parsed !== "android" && parsed !== "ios") {
      throw validation("platform", parsed === "all" ? "must be android or ios" : "must be one of: android, ios, all");
    }
    this.platform = parsed;
    this.userId = identityText(context.userId, "userId");
    this.deviceId = identityText(context.deviceId, "deviceId");
    this.model = optionalText(context, "model");
    this.city = optionalText(context, "city");
    const net = context.netType;  // the Android SDK's network code may come as a JSON number
    this.netType = typeof net === "number" && Number.isInteger(net) && net >= 0 ? String(net) : optionalText(context, "netType");
    this.channel = optionalText(context, "channel");
    const client = optionalText(context, "clientVersion", "a version string");
    this.clientVersion = client === null ? null : Version.parseReported(client, "clientVersion");
    const os = optionalText(context, "osVersion", "a version string");
    this.osVersion = os === null ? null : Version.parseLenient(os);
    this.identity = this.userId || this.deviceId || null;
    this.keys = {
      city: this.city === null ? null : normalizeText(this.city) || null,
      model: this.model === null ? null : normalizeText(this.model) || null,
      network: this.netType === null ? null : reportedNetwork(this.netType) || null,
      osVersion: this.osVersion === null ? null : this.osVersion.key,
    };
  }

  /** Read a device context (throws `MdsError` kind `validation` naming the field). */
  static fromContext(context: DeviceContext | Record<string, unknown>): Device {
    return new Device(context as Record<string, unknown>);
  }

  /** The context as the dynamic check API reads it (values as this client understood them). */
  toContext(): Record<string, string> {
    const values: Record<string, string | null> = {
      platform: this.platform,
      clientVersion: this.clientVersion && this.clientVersion.text,
      userId: this.userId,
      deviceId: this.deviceId,
      osVersion: this.osVersion && this.osVersion.text,
      model: this.model,
      city: this.city,
      netType: this.netType,
      channel: this.channel,
    };
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) if (v !== null) out[k] = v;
    return out;
  }
}

export type RuleType = "city" | "model" | "network" | "osVersion";

interface RuleJson {
  type: RuleType;
  operation: 1 | 2 | 3 | 4;
  values?: string[];
  ranges?: RangeJson[];
}

export interface CompiledTargetJson {
  schema: 1;
  platform: "android" | "ios" | "all";
  clientVersions: RangeJson[];
  rules: RuleJson[];
  whitelistIds: string[];
  rollout: { basisPoints: number; salt: string } | null;
}

/** A rule: its values or its version ranges (either answers `has(key)`), and whether the key must be in them. */
type Check = { type: RuleType; positive: boolean; values: { has(key: string): boolean } };

function inRanges(ranges: readonly VersionRange[], key: string): boolean {
  for (const r of ranges) if (r.containsKey(key)) return true;
  return false;
}

export class CompiledTarget {
  readonly platform: Platform | null;
  readonly clientVersions: readonly VersionRange[];
  readonly whitelistIds: readonly string[];
  private readonly checks: readonly Check[];
  private readonly basisPoints: number | null;
  private readonly salt: string;

  private constructor(json: CompiledTargetJson) {
    this.platform = json.platform === "all" ? null : json.platform;
    this.clientVersions = (json.clientVersions || []).map((r) => new VersionRange(r));
    this.checks = (json.rules || []).map((rule) => {
      const positive = rule.operation === 1 || rule.operation === 3;
      if (rule.operation >= 3) {
        const ranges = (rule.ranges || []).map((r) => new VersionRange(r));
        return { type: rule.type, positive, values: { has: (key: string) => inRanges(ranges, key) } };
      }
      const values = (rule.values || []).map((v) =>
        rule.type === "osVersion" ? Version.parse(v).key : rule.type === "network" ? normalizeNetwork(v) : normalizeText(v),
      );
      return { type: rule.type, positive, values: new Set(values) };
    });
    this.whitelistIds = json.whitelistIds || [];
    const rollout = json.rollout;
    this.basisPoints = rollout === null || rollout === undefined || rollout.basisPoints >= BUCKETS ? null : rollout.basisPoints;
    this.salt = rollout ? rollout.salt : "";
  }

  /** Read the compiled schema-1 form a manifest carries. */
  static fromJson(json: unknown): CompiledTarget {
    if (json === null || typeof json !== "object" || (json as { schema?: unknown }).schema !== 1) {
      throw new MdsError("format", "a compiled target must be an object with schema 1");
    }
    return new CompiledTarget(json as CompiledTargetJson);
  }

  /** Everything but whitelist membership: platform, client version, rules, rollout. */
  admits(device: Device): boolean {
    if (this.platform !== null && device.platform !== this.platform) return false;
    if (this.clientVersions.length) {
      const version = device.clientVersion;
      if (version === null || !inRanges(this.clientVersions, version.key)) return false;
    }
    for (const check of this.checks) {
      const value = device.keys[check.type];
      const inside = value !== null && check.values.has(value);
      if (inside !== check.positive) return false;
    }
    const basisPoints = this.basisPoints;
    if (basisPoints !== null) {
      const identity = device.identity;
      if (!identity || !basisPoints) return false;
      if (bucket(this.salt, identity) >= basisPoints) return false;
    }
    return true;
  }
}
