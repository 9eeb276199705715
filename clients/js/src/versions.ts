/**
 * Versions, ranges and cuts (docs/targeting.md, "Versions" and "Input grammar").
 *
 * A version's `key` is one string that sorts exactly like the padded part-by-part order: each part is
 * `<length letter><digits without leading zeros><lower-case suffix>\x01`, trailing `0` parts removed.
 * The length letter makes numbers compare numerically, `\x01` sorts below every suffix character, and
 * a key that is a prefix of another is smaller — so `<` on keys *is* the version order, and a cut
 * position is the key plus `0` (just below), `1` (the version itself) or `2` (just above).
 */
import { validation } from "./errors.js";
import { strip } from "./text.js";

const MAX_LENGTH = 64;
const MAX_DIGITS = 18;
const PART = /^[0-9A-Za-z]+$/;
const RULE = "must be dot-separated parts of ASCII letters and digits, e.g. 10.1.32";

export class Version {
  private constructor(
    /** Sorts like the version (see the module comment). */
    readonly key: string,
    /** The text as read (trimmed). */
    readonly text: string,
    /** The shortest text with this value: `1.0.0` → `1`, `01.2A` → `1.2a`. */
    readonly canonical: string,
  ) {}

  /** A version we are given (package versions, rule values): strict. */
  static parse(text: unknown, field = "version"): Version {
    if (typeof text !== "string") throw validation(field, "must be a version string, e.g. 10.1.32");
    const parsed = parseText(text);
    if (typeof parsed === "string") throw validation(field, parsed);
    return parsed;
  }

  /** The client version a device reports: a leading `v` and a `-pre-release` / `+build` tail dropped;
   *  what is left must start with an ASCII digit. */
  static parseReported(text: unknown, field = "clientVersion"): Version {
    if (typeof text !== "string") throw validation(field, "must be a version string, e.g. 10.1.32");
    const bare = undecorated(text);
    if (!/^[0-9]/.test(bare)) throw validation(field, "must start with a digit, e.g. 10.1.32");
    return Version.parse(bare, field);
  }

  /** An OS version: the exact parse, else its leading `digits(.digits)*`, else null (unknown). */
  static parseLenient(text: unknown): Version | null {
    if (typeof text !== "string") return null;
    const trimmed = dropV(strip(text));
    if (!/^[0-9]/.test(trimmed)) return null;
    const exact = parseText(trimmed);
    if (typeof exact !== "string") return exact;
    const prefix = /^[0-9]+(?:\.[0-9]+)*/.exec(trimmed);
    if (prefix === null) return null;
    const found = parseText(prefix[0]);
    return typeof found === "string" ? null : found;
  }

  compare(other: Version): number {
    return this.key < other.key ? -1 : this.key > other.key ? 1 : 0;
  }

  toString(): string {
    return this.text;
  }
}

function dropV(text: string): string {
  return (text[0] === "v" || text[0] === "V") && text.length > 1 && text[1] >= "0" && text[1] <= "9"
    ? text.slice(1)
    : text;
}

/** Trimmed, without a leading `v` before a digit and without a `-`/`+` tail. */
export function undecorated(text: string): string {
  const bare = dropV(strip(text));
  const tail = bare.search(/[-+]/);
  return tail < 0 ? bare : bare.slice(0, tail);
}

const cache = new Map<string, Version | string>();

function parseText(raw: string): Version | string {
  const hit = cache.get(raw);
  if (hit !== undefined) return hit;
  const result = parseUncached(raw);
  if (cache.size > 4096) cache.clear();
  cache.set(raw, result);
  return result;
}

function parseUncached(raw: string): Version | string {
  const text = strip(raw);
  if (text.length > MAX_LENGTH) return `must be at most ${MAX_LENGTH} characters`;
  const parts: [string, string][] = [];
  for (const part of dropV(text).split(".")) {
    if (!PART.test(part)) return RULE;
    let cut = 0;
    while (cut < part.length && part[cut] >= "0" && part[cut] <= "9") cut++;
    const digits = part.slice(0, cut);
    const number = digits.replace(/^0+/, "") || "0";
    if (number.length > MAX_DIGITS) return `number parts must have at most ${MAX_DIGITS} digits`;
    parts.push([number, part.slice(cut).toLowerCase()]);
  }
  while (parts.length && parts[parts.length - 1][0] === "0" && parts[parts.length - 1][1] === "") parts.pop();
  const key = parts.map(([n, s]) => String.fromCharCode(0x40 + n.length) + n + s + "\x01").join("");
  const canonical = parts.length ? parts.map(([n, s]) => n + s).join(".") : "0";
  return new (Version as unknown as new (k: string, t: string, c: string) => Version)(key, text, canonical);
}

export interface RangeJson {
  min: string | null;
  max: string | null;
  minInclusive?: boolean;
  maxInclusive?: boolean;
}

/** The key of a range's bound (null: unbounded). */
function boundKey(text: string | null | undefined, field: string): string | null {
  return text === null || text === undefined || text === "" ? null : Version.parse(text, field).key;
}

/** Versions from `min` to `max` (null: unbounded), inclusive unless said otherwise. */
export class VersionRange {
  readonly min: string | null; // keys
  readonly max: string | null;
  readonly minInclusive: boolean;
  readonly maxInclusive: boolean;

  constructor(json: RangeJson) {
    this.min = boundKey(json.min, "min");
    this.max = boundKey(json.max, "max");
    this.minInclusive = this.min === null || json.minInclusive !== false;
    this.maxInclusive = this.max === null || json.maxInclusive !== false;
  }

  containsKey(key: string): boolean {
    const { min, max } = this;
    if (min !== null && (key < min || (key === min && !this.minInclusive))) return false;
    if (max !== null && (key > max || (key === max && !this.maxInclusive))) return false;
    return true;
  }

  contains(version: Version): boolean {
    return this.containsKey(version.key);
  }
}

export interface CutJson {
  version: string;
  above: boolean;
}

/** Where a cut sits among version positions (`key + "1"`). */
export function cutPosition(cut: CutJson): string {
  return Version.parse(cut.version).key + (cut.above ? "2" : "0");
}

/** The segment of `positions` (sorted cut positions) holding `version`: the number of cuts below it. */
export function segmentIndex(version: Version, positions: readonly string[]): number {
  const position = version.key + "1";
  let low = 0;
  let high = positions.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (positions[mid] < position) low = mid + 1;
    else high = mid;
  }
  return low;
}
