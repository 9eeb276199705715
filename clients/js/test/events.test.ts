// Device events (docs/events.md): each fact once, a queue that survives a restart, batches of at most
// 50 events and 64 KB, retries that keep the event IDs, and a refused batch that leaves the queue.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Fetch, MemoryStorage, type Storage, createMds } from "../src/index.js";
import { response } from "./kit.js";
import { PUBLIC_KEYS } from "./publish.js";

const DEVICE = { platform: "android", clientVersion: "4.0", userId: "alice", deviceId: "phone-1" };

interface Sent {
  ids: string[];
  bytes: number;
  body: { schema: number; appId: string; deviceId: string; clientVersion: string; platform: string };
}

/** A fake API: answers each POST /client/v1/events with `answer()` (a status, or a thrown network error). */
function api(answer: () => number | "down" = () => 202) {
  const sent: Sent[] = [];
  const fetch: Fetch = async (url, init = {}) => {
    const { pathname } = new URL(url);
    if (pathname !== "/client/v1/events") return response(404);
    const status = answer();
    if (status === "down") throw new TypeError("network down");
    const body = JSON.parse(init.body as string);
    sent.push({ ids: body.events.map((e: { id: string }) => e.id), bytes: (init.body as string).length, body });
    return response(status, status === 202 ? JSON.stringify({ accepted: body.events.length }) : '{"code":"x"}');
  };
  return { sent, fetch };
}

async function reporter(fetch: Fetch, storage: Storage = new MemoryStorage(), now = { t: 1_800_000_000 }) {
  const mds = await createMds({
    cdnUrl: "http://cdn.kit", apiUrl: "http://api.kit", appId: "APP", workspaceId: "default", publicKeys: PUBLIC_KEYS,
    storage, fetch, clock: () => now.t, networkType: () => "WIFI", device: () => DEVICE,
  });
  assert.ok(mds.events, "a device with a deviceId gets an events reporter");
  return mds.events;
}

describe("device events", () => {
  it("queues each fact once, and the queue and facts survive a restart", async () => {
    const storage = new MemoryStorage();
    const events = await reporter(api().fetch, storage);
    assert.equal(await events.record("check.answered", "upgrade-task-12"), true);
    assert.equal(await events.record("check.answered", "upgrade-task-12"), false);
    assert.equal(await events.record("install.failed", "upgrade-task-12", { reason: "disk #full\nsecond line" }), true);
    const restarted = await reporter(api().fetch, storage);
    assert.equal(await restarted.record("check.answered", "upgrade-task-12"), false, "the fact is remembered");
    const queued = await restarted.pending();
    assert.deepEqual(queued.map((e) => [e.type, e.release, e.reason]), [
      ["check.answered", "upgrade-task-12", undefined],
      ["install.failed", "upgrade-task-12", "disk  full"],
    ]);
    assert.ok(queued.every((e) => /^[A-Za-z0-9_-]{8,64}$/.test(e.id) && e.at === 1_800_000_000));
  });

  it("sends the batch envelope the server reads, and empties the queue on 202", async () => {
    const server = api();
    const events = await reporter(server.fetch);
    await events.record("check.answered", "h5-task-3");
    assert.equal(await events.flush(), 1);
    assert.deepEqual(server.sent[0].body, { ...server.sent[0].body, schema: 1, appId: "APP", deviceId: "phone-1", clientVersion: "4.0", platform: "android" });
    assert.deepEqual(await events.pending(), []);
    assert.equal(await events.flush(), 0);
    assert.equal(server.sent.length, 1, "nothing left to send");
  });

  it("sends batches of at most 50 events and 64 KB", async () => {
    const server = api();
    const events = await reporter(server.fetch);
    for (let n = 0; n < 120; n++) await events.record("check.answered", `upgrade-task-${n}`);
    assert.equal(await events.flush(), 120);
    assert.deepEqual(server.sent.map((s) => s.ids.length), [50, 50, 20]);

    const big = api();
    const heavy = await reporter(big.fetch);
    for (let n = 0; n < 45; n++) await heavy.record("install.failed", `upgrade-task-${n}`, { reason: "x".repeat(199) + n });
    for (let n = 0; n < 45; n++) await heavy.record("config.active", `config:key_${n}`, { value: "v".repeat(190) + n });
    assert.equal(await heavy.flush(), 90);
    assert.ok(big.sent.length >= 2 && big.sent.every((s) => s.ids.length <= 50 && s.bytes <= 64 * 1024), JSON.stringify(big.sent.map((s) => [s.ids.length, s.bytes])));
  });

  for (const failure of [500, 503, 429, "down"] as const) {
    it(`keeps the queue and the same event IDs after ${failure === "down" ? "a network error" : `a ${failure}`}`, async () => {
      let answer: number | "down" = failure;
      const server = api(() => answer);
      const events = await reporter(server.fetch);
      await events.record("download.finished", "upgrade-task-7");
      await events.record("install.finished", "upgrade-task-7");
      const ids = (await events.pending()).map((e) => e.id);
      assert.equal(await events.flush(), 0);
      assert.deepEqual((await events.pending()).map((e) => e.id), ids);
      answer = 202;
      assert.equal(await events.flush(), 2);
      assert.deepEqual(server.sent.at(-1)!.ids, ids, "the retry carries the same IDs");
    });
  }

  it("drops a batch the server refused for good (4xx) and goes on with the next", async () => {
    const answers = [400, 202];
    const server = api(() => answers.shift() ?? 202);
    const events = await reporter(server.fetch);
    for (let n = 0; n < 60; n++) await events.record("check.answered", `upgrade-task-${n}`);
    assert.equal(await events.flush(), 10, "the first 50 were refused, the next 10 accepted");
    assert.deepEqual(await events.pending(), []);
  });

  it("refuses an event the server would refuse, naming what is wrong", async () => {
    const events = await reporter(api().fetch);
    await assert.rejects(events.record("install.exploded" as never, "upgrade-task-1"), /type/);
    await assert.rejects(events.record("install.failed", "upgrade-task-1"), /reason/);
    await assert.rejects(events.record("prompt.shown", "h5-task-1"), /prompt\.shown|h5/);
    await assert.rejects(events.record("config.active", "config:feed_v2"), /value/);
    assert.deepEqual(await events.pending(), []);
  });

  it("is off without a deviceId or with events: false", async () => {
    const base = { cdnUrl: "http://cdn.kit", apiUrl: "http://api.kit", appId: "APP", workspaceId: "default", publicKeys: PUBLIC_KEYS, fetch: api().fetch };
    const anonymous = await createMds({ ...base, storage: new MemoryStorage(), device: () => ({ platform: "android", clientVersion: "4.0" }) });
    assert.equal(anonymous.events, null);
    const off = await createMds({ ...base, storage: new MemoryStorage(), device: () => DEVICE, events: false });
    assert.equal(off.events, null);
  });
});

describe("device events from the products", () => {
  it("config.active carries the text the Python reference sends (json.dumps of the typed value)", async () => {
    const { configText } = await import("../src/events.js");
    // expected values printed by chalicelib.domain.config.typed_value + json.dumps(separators=(",", ":"))
    const cases: [string, string, string][] = [
      ["number", "20", "20"], ["number", "-0", "0"], ["number", "20.0", "20.0"], ["number", "1e2", "100.0"],
      ["number", "1e16", "1e+16"], ["number", "0.00001", "1e-05"], ["number", "123.456", "123.456"],
      ["boolean", "true", "true"], ["boolean", "false", "false"], ["string", "a b", "a b"], ["json", '"plain"', "plain"],
      ["json", '{"b": 1, "1": [1.0, "\u00e9", null], "b": 2}', '{"b":2,"1":[1.0,"\\u00e9",null]}'],
      ["json", "[1e400, 12345678901234567890]", "[Infinity,12345678901234567890]"],
    ];
    for (const [type, text, python] of cases) assert.equal(configText(type, text), python, `${type} ${text}`);
  });

  it("an upgrade check that offers a task and a config load report themselves, once", async () => {
    const { KitNetwork } = await import("./kit.js");
    const { EVERYONE, publishAll } = await import("./publish.js");
    const network = new KitNetwork();
    const server = api();
    const task = { id: "upgrade-task-9", target: EVERYONE, payload: { resultStatus: 206, taskId: "9", downloadURL: "http://cdn.kit/app.apk" } };
    const bundle = { id: "config-constant", target: EVERYONE, subject: "", payload: { configs: { feed_v2: { value: "true", type: "boolean" }, color: { value: "#fff", type: "string" } } } };
    const files = publishAll({ upgrade: [task], config: [bundle] }, 1);
    network.files = Object.fromEntries(Object.entries(files).map(([p, body]) => [p, { body }]));
    network.handle = ((cdn) => (url: string, init?: Parameters<Fetch>[1]) => (url.includes("/client/v1/events") ? server.fetch(url, init) : cdn(url, init)))(network.handle);
    const mds = await createMds({
      cdnUrl: "http://cdn.kit", apiUrl: "http://api.kit", appId: "APP", workspaceId: "default", publicKeys: PUBLIC_KEYS,
      storage: new MemoryStorage(), fetch: network.fetch, clock: () => 1_800_000_000, networkType: () => "WIFI", device: () => DEVICE,
    });
    for (let n = 0; n < 3; n++) assert.equal((await mds.upgrade.check(DEVICE)).prompt, true);
    await mds.config.loadImmediately();
    const queued = (await mds.events!.pending()).map((e) => [e.type, e.release, e.value]);
    // "#fff" cannot be counted by the server ('#' is its separator): not reported rather than a refused batch
    assert.deepEqual(queued, [["check.answered", "upgrade-task-9", undefined], ["prompt.shown", "upgrade-task-9", undefined], ["config.active", "config:feed_v2", "true"]]);
    assert.equal(await mds.events!.flush(), 3);
  });
});
