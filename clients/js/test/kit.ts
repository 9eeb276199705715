// Loads the conformance kit and serves a scenario step's CDN like an HTTP server (ETag, 304, 404, errors).
import { readFileSync } from "node:fs";
import type { Fetch, FetchResponse } from "../src/index.js";
import { fromBase64, utf8 } from "../src/text.js";

const VECTORS = new URL("../../../conformance/vectors/", import.meta.url);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function kit(group: string): any {
  const data = JSON.parse(readFileSync(new URL(`${group}.json`, VECTORS), "utf-8"));
  if (data.schema !== "mds-conformance/1" || data.group !== group) throw new Error(`${group}.json: unknown kit schema ${data.schema}`);
  return data;
}

export function response(status: number, body: Uint8Array | string = new Uint8Array(0), headers: Record<string, string> = {}): FetchResponse {
  const bytes = typeof body === "string" ? utf8(body) : body;
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    status,
    headers: { get: (name: string) => lower[name.toLowerCase()] ?? null },
    arrayBuffer: async () => bytes.slice().buffer as ArrayBuffer,
    json: async () => JSON.parse(new TextDecoder().decode(bytes)),
  };
}

export type CdnEntry = { body?: string; body64?: string; etag?: string | null; error?: string };

/** A fake network: `files` (path → entry) for the CDN, `api(path, body)` for the API. */
export class KitNetwork {
  files: Record<string, CdnEntry> = {};
  apiAnswer: unknown = null;
  readonly posts: { path: string; body: unknown }[] = [];

  /** What the SDK is given; it calls `handle`, which a test may replace. */
  readonly fetch: Fetch = (url, init) => this.handle(url, init);

  handle: Fetch = async (url, init = {}) => {
    const { host, pathname } = new URL(url);
    if (host === "api.kit") {
      const body = init.body ? JSON.parse(init.body) : null;
      this.posts.push({ path: pathname, body });
      if (pathname === "/client/v1/hotpatch/report") return response(200, '{"ok":true}');
      if (this.apiAnswer === null) throw new Error(`the scenario did not expect ${pathname}`);
      return response(200, JSON.stringify(this.apiAnswer));
    }
    const entry = this.files[pathname.slice(1)];
    if (entry === undefined) return response(404);
    if (entry.error) throw new TypeError("kit: network down");
    const etag = entry.etag ?? null;
    if (etag && init.headers?.["If-None-Match"] === etag) return response(304, "", { ETag: etag });
    const body = entry.body64 !== undefined ? fromBase64(entry.body64) : utf8(entry.body ?? "");
    return response(200, body, etag ? { ETag: etag } : {});
  };
}
