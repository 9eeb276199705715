/**
 * Switch configuration, as mPaaS `MPConfigService`: `get(key, default)` (typed), `load()` when the refresh
 * interval passed (30 minutes, or `Load_Config_Interval` seconds), `loadImmediately()`, and
 * `onChange(key, listener)` called once per real change. Values persist, so a restarted app has its last
 * values before its first load; a failed load keeps them.
 */
import { type ConfigValue, intervalSeconds, typedValue } from "./answers.js";
import type { DeliveryClient, Round } from "./client.js";
import { type EventReporter, report } from "./events.js";
import { getJson, setJson } from "./storage.js";
import type { DeviceContext } from "./targeting.js";

type Entry = { value: string; type: string };
export type ConfigListener = (key: string, value: ConfigValue | undefined) => void;

const VALUES = "config/values.json";

export class ConfigClient {
  private configs: Record<string, Entry> = {};
  private loadedAt: number | null = null;
  private readonly listeners = new Set<{ key: string | null; listener: ConfigListener }>();

  constructor(
    private readonly delivery: DeliveryClient,
    private readonly device: () => DeviceContext,
    /** When set, each load reports config.active for every value in force (once per key and value). */
    private readonly events: EventReporter | null = null,
  ) {}

  /** Read the persisted values (createMds does this once). */
  async restore(): Promise<void> {
    const stored = await getJson<{ configs: Record<string, Entry>; loadedAt: number | null }>(this.delivery.storage, VALUES);
    if (stored) ({ configs: this.configs, loadedAt: this.loadedAt } = stored);
  }

  /** The delivered value (string, number, boolean or parsed JSON), else `fallback`. */
  get<T extends ConfigValue>(key: string, fallback: T): T;
  get(key: string): ConfigValue | undefined;
  get(key: string, fallback?: ConfigValue): ConfigValue | undefined {
    const entry = this.configs[key];
    return entry === undefined ? fallback : typedValue(entry.type, entry.value);
  }

  /** The value as text (what mPaaS `getConfig` returns). */
  getText(key: string, fallback: string | null = null): string | null {
    return this.configs[key]?.value ?? fallback;
  }

  keys(): string[] {
    return Object.keys(this.configs).sort();
  }

  get interval(): number {
    return intervalSeconds(this.configs);
  }

  /** Loads if the interval passed since the last load; the changed keys, or null when it was not time. */
  async load(device: DeviceContext = this.device(), options: { round?: Round } = {}): Promise<string[] | null> {
    if (this.loadedAt !== null && this.delivery.clock() - this.loadedAt < this.interval) return null;
    return this.loadImmediately(device, options);
  }

  /**
   * Loads now; calls listeners once per changed key (added, changed, removed). `round`: take the values
   * from a check round's decision (`mds.delivery.checkRound`) instead of a check of its own.
   */
  async loadImmediately(device: DeviceContext = this.device(), options: { round?: Round } = {}): Promise<string[]> {
    const decision = await this.delivery.decisionFor("config", device, options.round);
    const fresh: Record<string, Entry> = {};
    for (const [key, entry] of Object.entries((decision.answer.configs ?? {}) as Record<string, Entry>)) {
      fresh[key] = { value: entry.value, type: entry.type };
    }
    const changed = [...new Set([...Object.keys(fresh), ...Object.keys(this.configs)])]
      .filter((k) => JSON.stringify(fresh[k]) !== JSON.stringify(this.configs[k]))
      .sort();
    this.configs = fresh;
    this.loadedAt = this.delivery.clock();
    await setJson(this.delivery.storage, VALUES, { configs: this.configs, loadedAt: this.loadedAt });
    if (this.events) await report(() => this.events!.configEntries(fresh));
    for (const key of changed) {
      for (const { key: wanted, listener } of [...this.listeners]) if (wanted === null || wanted === key) listener(key, this.get(key));
    }
    return changed;
  }

  /** Call `listener(key, value)` when `key` (null: any key) changes; returns the unsubscribe function. */
  onChange(key: string | null, listener: ConfigListener): () => void {
    const entry = { key, listener };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }
}
