/** Each product's answer from a decision `{subject: candidate}` — the same as the server's. */
import type { Candidate } from "./delivery.js";
import type { Device } from "./targeting.js";

export type Product = "upgrade" | "config" | "h5" | "hotpatch";
export type Answer = Record<string, unknown>;

export const UP_TO_DATE = 201;
export const INTERVAL_KEY = "Load_Config_Interval";
export const DEFAULT_INTERVAL_SECONDS = 30 * 60;

export function answerFor(product: Product, chosen: Readonly<Record<string, Candidate>>, device: Device): Answer {
  switch (product) {
    case "upgrade": {
      const winner = chosen[""];
      return winner ? { ...winner.payload, userId: device.userId || "" } : { resultStatus: UP_TO_DATE, userId: device.userId || "" };
    }
    case "config": {
      const configs: Record<string, unknown> = {};
      for (const [subject, candidate] of Object.entries(chosen)) {
        if (subject === "") Object.assign(configs, candidate.payload.configs as object);
        else configs[subject] = candidate.payload;
      }
      return { configs };
    }
    case "h5":
      return {
        packages: Object.keys(chosen).filter(Boolean).sort(pythonOrder).map((id) => ({ ...chosen[id].payload })),
        userId: device.userId || "",
      };
    case "hotpatch": {
      const winner = Object.values(chosen)[0];
      return winner ? { ...winner.payload } : { patchId: null, revoked: [], rollbackSeq: 0 };
    }
  }
}

/** Python's string order (code points), not UTF-16 code units. */
function pythonOrder(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

export type ConfigType = "string" | "number" | "boolean" | "json";
export type ConfigValue = string | number | boolean | null | ConfigValue[] | { [key: string]: ConfigValue };

/** What `config.get` returns for a delivered `{value, type}`. */
export function typedValue(type: ConfigType | string, text: string): ConfigValue {
  if (type === "number") return Number(text);
  if (type === "boolean") return text === "true";
  if (type === "json") return JSON.parse(text) as ConfigValue;
  return text;
}

/** Seconds between config loads: `Load_Config_Interval` when delivered and valid, else 30 minutes. */
export function intervalSeconds(configs: Readonly<Record<string, { value: string }>>): number {
  const entry = configs[INTERVAL_KEY];
  if (entry !== undefined && typeof entry.value === "string" && entry.value.trim() !== "") {
    const seconds = Number(entry.value);
    if (Number.isFinite(seconds) && seconds > 0) return seconds;
  }
  return DEFAULT_INTERVAL_SECONDS;
}
