/**
 * Device events (docs/events.md, schema 1), as the reference reporter `mds/device/events.py` sends them:
 * what happened on the device — a release offered, the prompt shown, a download or install finished or
 * failed, the config value in force — queued once per *fact* (type, release, reason, value) and sent in
 * batches to `POST /client/v1/events`.
 *
 * The queue and the facts already queued live in the SDK's `Storage` (`events/state.json`), so nothing is
 * lost across restarts or while offline, and a device checking every 30 minutes reports "offered" once.
 * `flush()` sends batches of at most 50 events and 64 KB of JSON; a network error, a 5xx or a 429 keeps the
 * queue for the next flush (the same event IDs are sent again), a 202 or any other 4xx drops the batch
 * (a refused batch cannot be fixed by retrying). The server counts each fact exactly once anyway.
 */
import type { ConfigValue } from "./answers.js";
import type { DeliveryClient, Decision } from "./client.js";
import { MdsError, validation } from "./errors.js";
import { type Storage, getJson, setJson } from "./storage.js";
import type { H5Happened } from "./h5.js";
import { Device, type DeviceContext } from "./targeting.js";
import { strip } from "./text.js";
import type { UpgradeCheck } from "./upgrade.js";

export const EVENTS_SCHEMA = 1;
export const MAX_EVENTS_PER_BATCH = 50;
/** The server measures a batch as Python's `json.dumps` (ASCII) inside its queue message. */
export const MAX_BATCH_BYTES = 64 * 1024;
const QUEUE_MESSAGE = '{"receivedAt":0000000000,"batch":}'.length; // the server's wrapper around the batch
export const MAX_REASON = 200;

export type EventType =
  | "check.answered"
  | "prompt.shown"
  | "download.started"
  | "download.finished"
  | "download.failed"
  | "install.finished"
  | "install.failed"
  | "config.active";

export interface DeviceEvent {
  id: string;
  type: EventType;
  /** Whole seconds since the epoch, from the SDK's clock. */
  at: number;
  release: string;
  reason?: string;
  value?: string;
}

interface EventState {
  queue: DeviceEvent[];
  facts: string[];
}

const KEY = "events/state.json";
const DELIVERY: EventType[] = ["check.answered", "prompt.shown", "download.started", "download.finished", "download.failed", "install.finished", "install.failed"];
const PRODUCT_EVENTS: Record<string, ReadonlySet<EventType>> = {
  upgrade: new Set(DELIVERY),
  h5: new Set(DELIVERY.filter((t) => t !== "prompt.shown")),
  hotpatch: new Set(DELIVERY.filter((t) => t !== "prompt.shown")),
  config: new Set<EventType>(["config.active"]),
};
const FAILURES = new Set<EventType>(["download.failed", "install.failed"]);
const RELEASE = /^(?:(upgrade)-task-|(h5)-task-|(hotpatch)-release-)\d{1,12}$|^(config):[A-Za-z0-9_.-]{1,128}$/;
const CONFIG_KEY = /^[A-Za-z0-9_.-]{1,128}$/;
const REPORTED = ["upgrade-task-", "h5-task-", "hotpatch-release-"]; // candidate IDs that are releases
const CONTROL = /[\x00-\x1f]/; // eslint-disable-line no-control-regex

/** Record calls and the queue updates of one storage run one at a time (read, change, write). */
const locks = new WeakMap<Storage, Promise<unknown>>();

function exclusive<T>(storage: Storage, work: () => Promise<T>): Promise<T> {
  const before = locks.get(storage) ?? Promise.resolve();
  const run = before.then(work, work);
  locks.set(storage, run.catch(() => undefined));
  return run;
}

export interface RecordOptions {
  /** Why it failed: required for `download.failed` / `install.failed`, refused otherwise. */
  reason?: string | null;
  /** The value in force, as a string: required for `config.active`, refused otherwise. */
  value?: string | null;
}

export class EventReporter {
  private readonly device: () => DeviceContext | Device;
  private readonly newId: () => string;
  private flushing: Promise<unknown> = Promise.resolve();

  /**
   * @param device the device the events are about (its `deviceId` is required), or a function giving it
   *   (read at each flush: the batch carries its platform, deviceId and client version then).
   */
  constructor(
    private readonly delivery: DeliveryClient,
    device: DeviceContext | Device | (() => DeviceContext | Device),
    options: { newId?: () => string } = {},
  ) {
    this.device = typeof device === "function" ? device : () => device;
    this.newId = options.newId ?? randomId;
  }

  // --- recording ---------------------------------------------------------------------------------

  /**
   * Queue one event unless this fact (type, release, reason, value) was queued before; true when queued.
   * A reason is cut to its first line and 200 characters, with `#` replaced. Throws `MdsError` kind
   * `validation` for an event the server would refuse (unknown type, a type not of that release's
   * product, a missing or unexpected reason or value, `#` or control characters in a value).
   */
  async record(type: EventType, release: string, options: RecordOptions = {}): Promise<boolean> {
    return (await this.recordAll([[type, release, options]])) === 1;
  }

  /** Several `record`s in one read and write of the queue; how many were queued. */
  async recordAll(events: readonly (readonly [EventType, string, RecordOptions?])[]): Promise<number> {
    const checked = events.map(([type, release, options]) => checkEvent(type, release, options ?? {}));
    if (checked.length === 0) return 0;
    const at = Math.floor(this.delivery.clock());
    return exclusive(this.delivery.storage, async () => {
      const state = await this.state();
      const facts = new Set(state.facts);
      let queued = 0;
      for (const { type, release, reason, value } of checked) {
        const fact = `${type}|${release}|${reason ?? ""}|${value ?? ""}`;
        if (facts.has(fact)) continue;
        const event: DeviceEvent = { id: this.newId(), type, at, release };
        if (reason !== undefined) event.reason = reason;
        if (value !== undefined) event.value = value;
        facts.add(fact);
        state.facts.push(fact);
        state.queue.push(event);
        queued++;
      }
      if (queued) await setJson(this.delivery.storage, KEY, state);
      return queued;
    });
  }

  /** After a check (`mds.delivery.check`): each release the answer offers, and the upgrade prompt if shown now. */
  async checked(decision: Pick<Decision, "chosen">, prompt = false): Promise<number> {
    const events: [EventType, string][] = [];
    for (const release of Object.values(decision.chosen)) {
      if (!REPORTED.some((prefix) => release.startsWith(prefix))) continue;
      events.push(["check.answered", release]);
      if (prompt && release.startsWith("upgrade-task-")) events.push(["prompt.shown", release]);
    }
    return this.recordAll(events);
  }

  /** After `mds.upgrade.check` (the SDK calls it when `mds.events` is set): check.answered for the offered
   * task, prompt.shown when the prompt is shown now. A dynamic answer names its task by `taskId`. */
  async upgradeChecked(check: Pick<UpgradeCheck, "result" | "prompt" | "taskId" | "decision">): Promise<number> {
    if (check.result !== "HAS_NEW_VERSION") return 0;
    const releases = new Set(Object.values(check.decision?.chosen ?? {}).filter((r) => r.startsWith("upgrade-task-")));
    if (releases.size === 0 && check.taskId !== null && /^\d{1,12}$/.test(check.taskId)) releases.add(`upgrade-task-${check.taskId}`);
    const events: [EventType, string][] = [];
    for (const release of releases) {
      events.push(["check.answered", release]);
      if (check.prompt) events.push(["prompt.shown", release]);
    }
    return this.recordAll(events);
  }

  /** After `mds.h5.sync`: per H5 app its release offered, then downloaded and installed (an install on
   * open is reported when it is opened), or the install failed and why. */
  async h5Synced(happened: readonly H5Happened[]): Promise<number> {
    const events: [EventType, string, RecordOptions?][] = [];
    for (const { release, downloaded, installed, error } of happened) {
      if (!release || !release.startsWith("h5-task-")) continue;
      events.push(["check.answered", release]);
      if (error) events.push(["install.failed", release, { reason: reasonText(error.message) }]);
      else {
        if (downloaded) events.push(["download.finished", release]);
        if (installed) events.push(["install.finished", release]);
      }
    }
    return this.recordAll(events);
  }

  /** After a config load: config.active for each delivered `{value, type}` (see `configEntry`). */
  async configEntries(configs: Readonly<Record<string, { value: string; type: string }>>): Promise<number> {
    const events: [EventType, string, RecordOptions][] = [];
    for (const [key, entry] of Object.entries(configs)) {
      const text = configText(entry.type, entry.value);
      if (reportable(key, text)) events.push(["config.active", `config:${key}`, { value: text }]);
    }
    return this.recordAll(events);
  }

  /** The value of config `key` now in force: strings as they are, anything else as JSON (as Python's `json.dumps`). */
  async configActive(key: string, value: ConfigValue): Promise<boolean> {
    return this.configText(key, typeof value === "string" ? value : pythonJson(value));
  }

  /** `configActive` for a delivered `{value, type}` entry: the exact text the reference client would send. */
  async configEntry(key: string, entry: { value: string; type: string }): Promise<boolean> {
    return this.configText(key, configText(entry.type, entry.value));
  }

  private async configText(key: string, text: string): Promise<boolean> {
    if (!reportable(key, text)) return false;
    return this.record("config.active", `config:${key}`, { value: text });
  }

  // --- sending -----------------------------------------------------------------------------------

  /** Events queued and not yet sent. */
  async pending(): Promise<DeviceEvent[]> {
    return (await this.state()).queue;
  }

  /**
   * Send what is queued; how many events the server accepted. Stops at a network error, a 5xx or a 429
   * (those events stay queued, with their IDs); a batch answered 202 or another 4xx leaves the queue.
   */
  flush(): Promise<number> {
    const run = this.flushing.then(() => this.sendAll());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async sendAll(): Promise<number> {
    let accepted = 0;
    for (;;) {
      const queue = (await this.state()).queue;
      if (queue.length === 0) return accepted;
      const envelope = this.envelope();
      const events = nextBatch(queue, envelope);
      let reply;
      try {
        reply = await this.delivery.send(`${this.delivery.apiUrl}/client/v1/events`, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ...envelope, events }),
        });
      } catch (error) {
        if (error instanceof MdsError && error.kind === "network") return accepted;
        throw error;
      }
      if (reply.status >= 500 || reply.status === 429) return accepted;
      if (reply.status === 202) {
        try {
          accepted += Number(((await reply.json()) as { accepted?: unknown }).accepted) || 0;
        } catch {
          // accepted all the same
        }
      }
      const sent = new Set(events.map((e) => e.id)); // accepted, or refused for good (4xx)
      await exclusive(this.delivery.storage, async () => {
        const state = await this.state();
        state.queue = state.queue.filter((e) => !sent.has(e.id));
        await setJson(this.delivery.storage, KEY, state);
      });
    }
  }

  /** The batch fields besides `events`. */
  envelope(): Omit<Batch, "events"> {
    const given = this.device();
    const device = given instanceof Device ? given : Device.fromContext(given);
    if (!device.deviceId) throw validation("deviceId", "is required for events (they are counted per device)");
    return {
      schema: EVENTS_SCHEMA, appId: this.delivery.appId, workspaceId: this.delivery.workspaceId, platform: device.platform,
      deviceId: device.deviceId, clientVersion: device.clientVersion ? device.clientVersion.text : "0",
    };
  }

  private async state(): Promise<EventState> {
    const state = (await getJson<Partial<EventState>>(this.delivery.storage, KEY)) ?? {};
    return { queue: state.queue ?? [], facts: state.facts ?? [] };
  }
}

/** Whether the server can count this config value (a key it names, no `#` or control characters). */
function reportable(key: string, text: string): boolean {
  return CONFIG_KEY.test(key) && !text.includes("#") && !CONTROL.test(text);
}

/** Run a hook's reporting: events never break the product call that caused them. */
export async function report(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch {
    // a full or failing storage loses the event, not the check, the install or the load
  }
}

export interface Batch {
  schema: number;
  appId: string;
  workspaceId: string;
  platform: string;
  deviceId: string;
  clientVersion: string;
  events: DeviceEvent[];
}

/** The first events of the queue that fit one batch: at most 50 and 64 KB (one event always goes). */
export function nextBatch(queue: readonly DeviceEvent[], envelope: Omit<Batch, "events">): DeviceEvent[] {
  let size = QUEUE_MESSAGE + asciiJsonLength(JSON.stringify({ ...envelope, events: [] }));
  const batch: DeviceEvent[] = [];
  for (const event of queue) {
    if (batch.length === MAX_EVENTS_PER_BATCH) break;
    const more = asciiJsonLength(JSON.stringify(event)) + (batch.length ? 1 : 0);
    if (batch.length && size + more > MAX_BATCH_BYTES) break;
    size += more;
    batch.push(event);
  }
  return batch;
}

/** The length of `json` (JSON.stringify output) as Python writes it with `ensure_ascii`: `\uXXXX` from U+007F up. */
export function asciiJsonLength(json: string): number {
  let length = 0;
  for (let i = 0; i < json.length; i++) length += json.charCodeAt(i) >= 0x7f ? 6 : 1;
  return length;
}

/** A short, countable reason from an error message: its first line, `#` replaced, at most 200 characters. */
export function reasonText(error: string): string {
  const first = error.replace(/#/g, " ").split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/)[0]; // Python's splitlines
  const clean = strip(first.replace(/[\x00-\x1f]/g, " ")); // eslint-disable-line no-control-regex
  return strip([...clean].slice(0, MAX_REASON).join("")) || "unknown";
}

function checkEvent(type: EventType, release: string, options: RecordOptions): { type: EventType; release: string; reason?: string; value?: string } {
  const match = typeof release === "string" ? RELEASE.exec(release) : null;
  if (match === null) throw validation("release", "must be upgrade-task-<id>, h5-task-<id>, hotpatch-release-<id> or config:<key>");
  const product = match[1] ?? match[2] ?? match[3] ?? match[4];
  if (!PRODUCT_EVENTS[product].has(type)) {
    const known = Object.values(PRODUCT_EVENTS).some((types) => types.has(type));
    throw validation("type", known ? `${type} is not an event of a ${product} release` : `${type} is not an event type`);
  }
  const reason = options.reason ?? undefined;
  const value = options.value ?? undefined;
  if (FAILURES.has(type)) {
    if (typeof reason !== "string") throw validation("reason", `is required for ${type}`);
  } else if (reason !== undefined) throw validation("reason", "is only for download.failed and install.failed");
  if (type === "config.active") {
    if (typeof value !== "string") throw validation("value", "is required for config.active (the value in force, as a string)");
    if (value.includes("#") || CONTROL.test(value)) throw validation("value", "must not contain '#' or control characters");
  } else if (value !== undefined) throw validation("value", "is only for config.active");
  return { type, release, reason: reason === undefined ? undefined : reasonText(reason), value };
}

function randomId(): string {
  const bytes = new Uint8Array(16);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (b: Uint8Array) => Uint8Array } }).crypto;
  if (crypto?.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256); // Hermes without crypto
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// --- config values as the reference client writes them (Python's json.dumps, compact, ensure_ascii) -----

/** The text `config.active` carries for a delivered `{type, value}`: `json.dumps` of Python's typed value. */
export function configText(type: string, text: string): string {
  try {
    if (type === "boolean") return text === "true" ? "true" : "false";
    if (type === "number") return /^-?\d+$/.test(text) ? BigInt(text).toString() : pythonFloat(Number(text));
    if (type === "json") {
      const bare = text.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, "");
      return bare.startsWith('"') ? (JSON.parse(bare) as string) : new PythonJson(text).document(); // a JSON string is a str
    }
  } catch {
    return text;
  }
  return text;
}

/** `json.dumps(value, separators=(",", ":"))` of a JavaScript value (whole numbers as integers). */
export function pythonJson(value: ConfigValue | undefined): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return Number.isSafeInteger(value) ? String(value) : pythonFloat(value);
  if (typeof value === "string") return pythonString(value);
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(",")}]`;
  return `{${Object.entries(value).map(([k, v]) => `${pythonString(k)}:${pythonJson(v)}`).join(",")}}`;
}

function pythonString(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Python's `repr(float)`: the shortest round-trip digits, fixed from 1e-4 up to 1e16, else `1e+16` / `1.5e-05`. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  const [mantissa, exponent] = Math.abs(x).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const e = Number(exponent);
  if (e < -4 || e >= 16) {
    const tail = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${tail}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  if (e < 0) return `${sign}0.${"0".repeat(-e - 1)}${digits}`;
  const whole = digits.slice(0, e + 1).padEnd(e + 1, "0");
  return `${sign}${whole}.${digits.slice(e + 1) || "0"}`;
}

/** JSON text re-written as `json.dumps(json.loads(text))`: key order as written (a repeated key keeps its
 * first place and last value), integers as written, floats as Python prints them. */
class PythonJson {
  private at = 0;
  constructor(private readonly text: string) {}

  document(): string {
    const out = this.value();
    this.space();
    if (this.at !== this.text.length) throw new Error("trailing data");
    return out;
  }

  private space(): void {
    while (this.at < this.text.length && " \t\n\r".includes(this.text[this.at])) this.at++;
  }

  private value(): string {
    this.space();
    const c = this.text[this.at];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return pythonString(this.string());
    for (const word of ["true", "false", "null", "NaN", "Infinity", "-Infinity"]) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return word;
      }
    }
    const number = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.at));
    if (number === null) throw new Error("not JSON");
    this.at += number[0].length;
    return number[1] === undefined && number[2] === undefined ? BigInt(number[0]).toString() : pythonFloat(Number(number[0]));
  }

  private string(): string {
    const start = this.at++;
    while (this.text[this.at] !== '"') {
      if (this.at >= this.text.length) throw new Error("unterminated string");
      this.at += this.text[this.at] === "\\" ? 2 : 1;
    }
    this.at++;
    return JSON.parse(this.text.slice(start, this.at)) as string;
  }

  private object(): string {
    const members = new Map<string, string>();
    this.at++;
    this.space();
    if (this.text[this.at] === "}") {
      this.at++;
      return "{}";
    }
    for (;;) {
      this.space();
      if (this.text[this.at] !== '"') throw new Error("expected a key");
      const key = this.string();
      this.space();
      if (this.text[this.at++] !== ":") throw new Error("expected ':'");
      members.set(key, this.value());
      this.space();
      const next = this.text[this.at++];
      if (next === "}") break;
      if (next !== ",") throw new Error("expected ',' or '}'");
    }
    return `{${[...members].map(([k, v]) => `${pythonString(k)}:${v}`).join(",")}}`;
  }

  private array(): string {
    const items: string[] = [];
    this.at++;
    this.space();
    if (this.text[this.at] === "]") {
      this.at++;
      return "[]";
    }
    for (;;) {
      items.push(this.value());
      this.space();
      const next = this.text[this.at++];
      if (next === "]") break;
      if (next !== ",") throw new Error("expected ',' or ']'");
    }
    return `[${items.join(",")}]`;
  }
}
