/**
 * Where the SDK keeps manifests, state, config values and installed packages. Inject one:
 * `MemoryStorage` (tests, ephemeral), `WebStorage(window.localStorage)`, `AsyncStorageAdapter(AsyncStorage)`
 * (React Native), or `NodeFileStorage(dir)` from `@mds-delivery/client/node`. Each `set` replaces one
 * value whole; the SDK installs packages by writing new keys first and switching one pointer last.
 */
import { fromBase64, fromUtf8, toBase64, utf8 } from "./text.js";

export interface Storage {
  get(key: string): Promise<Uint8Array | null>;
  set(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key that starts with `prefix`. */
  keys(prefix: string): Promise<string[]>;
}

export async function getJson<T>(storage: Storage, key: string): Promise<T | null> {
  const raw = await storage.get(key);
  return raw === null ? null : (JSON.parse(fromUtf8(raw)) as T);
}

export async function setJson(storage: Storage, key: string, value: unknown): Promise<void> {
  await storage.set(key, utf8(JSON.stringify(value)));
}

export class MemoryStorage implements Storage {
  private readonly values = new Map<string, Uint8Array>();
  async get(key: string) {
    return this.values.get(key) ?? null;
  }
  async set(key: string, value: Uint8Array) {
    this.values.set(key, value.slice());
  }
  async delete(key: string) {
    this.values.delete(key);
  }
  async keys(prefix: string) {
    return [...this.values.keys()].filter((k) => k.startsWith(prefix));
  }
}

/** The Web Storage API shape (`window.localStorage`). Values are base64 under `prefix`. */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  key(index: number): string | null;
  readonly length: number;
}

export class WebStorage implements Storage {
  constructor(private readonly store: WebStorageLike, private readonly prefix = "mds:") {}
  async get(key: string) {
    const value = this.store.getItem(this.prefix + key);
    return value === null ? null : fromBase64(value);
  }
  async set(key: string, value: Uint8Array) {
    this.store.setItem(this.prefix + key, toBase64(value));
  }
  async delete(key: string) {
    this.store.removeItem(this.prefix + key);
  }
  async keys(prefix: string) {
    const found: string[] = [];
    for (let i = 0; i < this.store.length; i++) {
      const key = this.store.key(i);
      if (key !== null && key.startsWith(this.prefix + prefix)) found.push(key.slice(this.prefix.length));
    }
    return found;
  }
}

/** `@react-native-async-storage/async-storage`'s shape. */
export interface AsyncStorageLike {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
  getAllKeys(): Promise<readonly string[]>;
}

export class AsyncStorageAdapter implements Storage {
  constructor(private readonly store: AsyncStorageLike, private readonly prefix = "mds:") {}
  async get(key: string) {
    const value = await this.store.getItem(this.prefix + key);
    return value === null ? null : fromBase64(value);
  }
  async set(key: string, value: Uint8Array) {
    await this.store.setItem(this.prefix + key, toBase64(value));
  }
  async delete(key: string) {
    await this.store.removeItem(this.prefix + key);
  }
  async keys(prefix: string) {
    return (await this.store.getAllKeys()).filter((k) => k.startsWith(this.prefix + prefix)).map((k) => k.slice(this.prefix.length));
  }
}
