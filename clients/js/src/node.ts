/** Node-only helpers: `NodeFileStorage` keeps each key as a file under a directory (atomic renames). */
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { Storage } from "./storage.js";

export class NodeFileStorage implements Storage {
  constructor(private readonly dir: string) {}

  private path(key: string): string {
    if (key.split("/").some((part) => part === ".." || part === "")) throw new Error(`bad storage key ${key}`);
    return join(this.dir, ...key.split("/"));
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.path(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, value);
    await rename(tmp, path); // readers see the old or the new value, never half of one
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async keys(prefix: string): Promise<string[]> {
    const found: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (!entry.name.endsWith(".tmp")) found.push(relative(this.dir, path).split(sep).join("/"));
      }
    };
    await walk(this.dir);
    return found.filter((k) => k.startsWith(prefix)).sort();
  }
}
