// The SDK's own behaviour around the kit: typed errors with the last good state kept, H5 installs,
// config listeners and persistence, resumable verified upgrade downloads, storage adapters.
import * as assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AsyncStorageAdapter, MdsError, MemoryStorage, type Storage, WebStorage, createMds } from "../src/index.js";
import { NodeFileStorage } from "../src/node.js";
import { fromBase64, utf8 } from "../src/text.js";
import { KitNetwork, kit, response } from "./kit.js";
import { EVERYONE, INDEX, PUBLIC_KEYS, publish } from "./publish.js";

const AMR = kit("amr");
const DEVICE = { platform: "android", clientVersion: "5.0", userId: "alice" };

async function sdk(network: KitNetwork, options: { storage?: Storage; net?: string; now?: { t: number } } = {}) {
  const now = options.now ?? { t: 1_800_000_000 };
  return createMds({
    cdnUrl: "http://cdn.kit", apiUrl: "http://api.kit", appId: "APP", workspaceId: "default", publicKeys: PUBLIC_KEYS,
    storage: options.storage ?? new MemoryStorage(), fetch: network.fetch, clock: () => now.t,
    networkType: () => options.net ?? "WIFI", device: () => DEVICE, h5PublicKey: AMR.publicKeys.h5,
  });
}

const serve = (files: Record<string, string>, extra: Record<string, object> = {}) => ({
  ...Object.fromEntries(Object.entries(files).map(([p, body]) => [p, { body, etag: p.endsWith("index.json") ? `"${body.slice(-24)}"` : null }])),
  ...extra,
});

function amrCase(name: string): string {
  return AMR.cases.find((c: { name: string }) => c.name === name).amr;
}

function h5Candidate(version: string, extra: object = {}) {
  return { id: `h5-${version}`, subject: "12345678", target: EVERYONE,
    payload: { h5Id: "12345678", version, amrUrl: `http://cdn.kit/amr/${version}.amr`, vhost: "h5app.com", mainUrl: "/www/index.html", ...extra } };
}

describe("H5 offline packages", () => {
  it("installs a verified package and resolves its URLs; a bad one never replaces it", async () => {
    const network = new KitNetwork();
    const mds = await sdk(network);
    network.files = serve(publish("h5", [h5Candidate("1.0.0.1")], 1), { "amr/1.0.0.1.amr": { body64: amrCase("good") } });
    assert.equal((await mds.h5.sync(DEVICE))!["12345678"].status, "installed");
    const page = await mds.h5.resolve("https://12345678.h5app.com/www/index.html");
    assert.ok(page.offline && page.version === "1.0.0.1");
    assert.deepEqual(await mds.h5.read("https://12345678.h5app.com/www/index.html"), utf8("<!DOCTYPE html><html><body>kit</body></html>"));
    assert.deepEqual(await mds.h5.resolve("https://12345678.h5app.com/www/missing.js"), { offline: false, url: "https://12345678.h5app.com/www/missing.js" });

    // 1.0.0.1 is re-delivered as 1.0.0.2 whose bytes are tampered: refused, typed, 1.0.0.1 kept
    network.files = serve(publish("h5", [h5Candidate("1.0.0.2")], 2), { "amr/1.0.0.2.amr": { body64: amrCase("flipped byte in a file") } });
    const result = (await mds.h5.sync(DEVICE, { force: true }))!["12345678"];
    assert.equal(result.status, "failed");
    assert.equal(result.error?.kind, "digest");
    assert.deepEqual(await mds.h5.installed(), { "12345678": "1.0.0.1" });
    network.files["amr/1.0.0.2.amr"] = { body64: amrCase("truncated inside a file") };
    assert.equal((await mds.h5.sync(DEVICE, { force: true }))!["12345678"].error?.kind, "truncated");
    assert.ok((await mds.h5.resolve("https://12345678.h5app.com/www/index.html")).offline);
  });

  it("waits for Wi-Fi, honours asyncReqRate, refuses a package that is not the version answered", async () => {
    const network = new KitNetwork();
    const now = { t: 1_800_000_000 };
    const cellular = await sdk(network, { net: "4G", now });
    network.files = serve(publish("h5", [h5Candidate("1.0.0.1", { downloadNetwork: 0, extendInfo: { asyncReqRate: "600" } })], 1),
      { "amr/1.0.0.1.amr": { body64: amrCase("good") } });
    assert.equal((await cellular.h5.sync(DEVICE))!["12345678"].status, "waiting-for-wifi");
    const storage = new MemoryStorage();
    const wifi = await sdk(network, { storage, now });
    assert.equal((await wifi.h5.sync(DEVICE))!["12345678"].status, "installed");
    assert.equal(await wifi.h5.sync(DEVICE), null); // asyncReqRate 600 s
    now.t += 601;
    network.files = serve(publish("h5", [h5Candidate("1.0.0.1-b", { installType: 0 })], 2), { "amr/1.0.0.1-b.amr": { body64: amrCase("good") } });
    const staged = (await wifi.h5.sync(DEVICE))!["12345678"];
    assert.equal(staged.error?.kind, "digest"); // the package inside is 1.0.0.1, not what the answer names
  });
});

describe("typed errors keep the last good state", () => {
  it("a network failure on the first check is HAS_SOME_ERROR (network); later it is a stale answer", async () => {
    const network = new KitNetwork();
    const mds = await sdk(network);
    network.files = { [INDEX]: { error: "network" } };
    const offline = await mds.upgrade.check(DEVICE);
    assert.equal(offline.result, "HAS_SOME_ERROR");
    assert.ok(offline.error instanceof MdsError && offline.error.kind === "network");
    const task = { id: "upgrade-task-1", target: EVERYONE, payload: { resultStatus: 206, taskId: "1", downloadURL: "http://cdn.kit/app.apk", needClientNetType: "WIFI" } };
    network.files = serve(publish("upgrade", [task], 1));
    const fresh = await mds.upgrade.check(DEVICE);
    assert.equal(fresh.result, "HAS_NEW_VERSION");
    assert.equal(fresh.mode, "forced");
    network.files = { [INDEX]: { error: "network" } };
    const stale = await mds.upgrade.check(DEVICE);
    assert.equal(stale.result, "HAS_NEW_VERSION");
    assert.ok(stale.stale && stale.decision?.refused === "network");
  });

  it("a server refusal of the dynamic API is a typed server error", async () => {
    const network = new KitNetwork();
    const mds = await sdk(network);
    network.files = {};
    network.handle = async () => response(429, '{"error":"slow down"}');
    const refused = await mds.upgrade.check(DEVICE);
    assert.equal(refused.error?.kind, "server");
    assert.equal(refused.error?.status, 429);
  });
});

describe("upgrade", () => {
  const apk = utf8("APK".repeat(1000));

  it("honours needClientNetType, resumes by Range and checks the SHA-256", async () => {
    const { sha256 } = await import("@noble/hashes/sha2.js");
    const { hex } = await import("../src/text.js");
    const network = new KitNetwork();
    const payload = { resultStatus: 204, taskId: "7", downloadURL: "http://cdn.kit/app.apk", needClientNetType: "WIFI", fileSha256: hex(sha256(apk)), fileSize: apk.length };
    network.files = serve(publish("upgrade", [{ id: "upgrade-task-7", target: EVERYONE, payload }], 1));
    const storage = new MemoryStorage();
    const onCellular = await sdk(network, { storage, net: "4G" });
    const offered = await onCellular.upgrade.check(DEVICE);
    assert.equal(offered.result, "HAS_NEW_VERSION");
    assert.equal(offered.prompt, false);
    await assert.rejects(onCellular.upgrade.download(offered), (e: unknown) => e instanceof MdsError && e.kind === "network-type");

    const mds = await sdk(network, { storage });
    const check = await mds.upgrade.check(DEVICE);
    const ranges: (string | undefined)[] = [];
    const cdn = network.handle;
    let cut = true;
    network.handle = async (url, init) => {
      if (!url.endsWith("app.apk")) return cdn(url, init);
      const range = init?.headers?.Range;
      ranges.push(range);
      const from = range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
      const rest = apk.subarray(from);
      if (cut) {
        cut = false; // the first transfer breaks half-way
        return { ...response(200, rest), body: stream([rest.subarray(0, 1000)], new TypeError("connection reset")) };
      }
      return { ...response(206, rest), body: stream([rest]) };
    };
    await assert.rejects(mds.upgrade.download(check), (e: unknown) => e instanceof MdsError && e.kind === "network");
    const progress: number[] = [];
    const file = await mds.upgrade.download(check, { onProgress: (n) => progress.push(n) });
    assert.deepEqual(file, apk);
    assert.deepEqual(ranges, [undefined, "bytes=1000-"]);
    assert.equal(progress.at(-1), apk.length);

    network.handle = async (url, init) => (url.endsWith("app.apk") ? response(200, utf8("tampered")) : cdn(url, init));
    await assert.rejects(mds.upgrade.download(check), (e: unknown) => e instanceof MdsError && e.kind === "digest");
  });
});

function stream(chunks: Uint8Array[], error?: Error) {
  let i = 0;
  return {
    getReader: () => ({
      read: async () => {
        if (i < chunks.length) return { done: false, value: chunks[i++] };
        if (error) throw error;
        return { done: true };
      },
    }),
  };
}

describe("config", () => {
  it("listeners fire once per real change; values persist; load honours Load_Config_Interval", async () => {
    const network = new KitNetwork();
    const storage = new MemoryStorage();
    const now = { t: 1_800_000_000 };
    const bundle = (value: string) => ({ id: "config-constant", target: EVERYONE, subject: "",
      payload: { configs: { feed_v2: { value, type: "boolean" }, Load_Config_Interval: { value: "60", type: "number" } } } });
    network.files = serve(publish("config", [bundle("true")], 1));
    const mds = await sdk(network, { storage, now });
    const heard: [string, unknown][] = [];
    mds.config.onChange("feed_v2", (key, value) => heard.push([key, value]));
    assert.deepEqual(await mds.config.load(), ["Load_Config_Interval", "feed_v2"]);
    assert.equal(mds.config.get("feed_v2", false), true);
    assert.deepEqual(await mds.config.loadImmediately(), []); // unchanged: nobody is called
    assert.equal(await mds.config.load(), null); // 60 s have not passed
    network.files = serve(publish("config", [bundle("false")], 2));
    now.t += 61;
    assert.deepEqual(await mds.config.load(), ["feed_v2"]);
    assert.deepEqual(heard, [["feed_v2", true], ["feed_v2", false]]);
    const restarted = await sdk(new KitNetwork(), { storage, now });
    assert.equal(restarted.config.get("feed_v2", true), false);
    assert.equal(restarted.config.get("missing", 7), 7);
  });
});

describe("storage adapters", () => {
  const map = new Map<string, string>();
  const local = {
    getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k), key: (i: number) => [...map.keys()][i] ?? null, get length() { return map.size; },
  };
  const asyncMap = new Map<string, string>();
  const asyncStorage = {
    getItem: async (k: string) => asyncMap.get(k) ?? null, setItem: async (k: string, v: string) => void asyncMap.set(k, v),
    removeItem: async (k: string) => void asyncMap.delete(k), getAllKeys: async () => [...asyncMap.keys()],
  };
  const adapters: [string, Storage][] = [
    ["memory", new MemoryStorage()], ["localStorage", new WebStorage(local)], ["AsyncStorage", new AsyncStorageAdapter(asyncStorage)],
    ["Node files", new NodeFileStorage(mkdtempSync(join(tmpdir(), "mds-sdk-")))],
  ];
  for (const [name, storage] of adapters) {
    it(name, async () => {
      const bytes = fromBase64("AAECA/7/");
      await storage.set("h5/12345678/1/www/a.js", bytes);
      await storage.set("h5/state.json", utf8("{}"));
      assert.deepEqual(await storage.get("h5/12345678/1/www/a.js"), bytes);
      assert.deepEqual((await storage.keys("h5/1")).sort(), ["h5/12345678/1/www/a.js"]);
      await storage.delete("h5/12345678/1/www/a.js");
      assert.equal(await storage.get("h5/12345678/1/www/a.js"), null);
    });
  }
});
