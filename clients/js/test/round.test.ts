// Client protocol 2 beyond the kit: one conditional index request per round for every product, grants
// kept in storage across app restarts and never lent to another identity, a product's own failure
// leaving the round standing, and what an SDK of protocol 1 left on the device.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { DeliveryClient, MemoryStorage, type Storage, createMds, identityHash } from "../src/index.js";
import { hex, utf8 } from "../src/text.js";
import { KitNetwork, response } from "./kit.js";
import { EVERYONE, INDEX, PUBLIC_KEYS, publishAll, seal } from "./publish.js";

const NOW = 1_800_000_000;
const ALICE = { platform: "android", clientVersion: "4.0", userId: "alice", deviceId: "phone-1" };

function client(network: KitNetwork, storage: Storage = new MemoryStorage(), clock = { now: NOW }): DeliveryClient {
  return new DeliveryClient({
    cdnUrl: "http://cdn.kit", apiUrl: "http://api.kit", appId: "APP", workspaceId: "default", publicKeys: PUBLIC_KEYS,
    storage, fetch: network.fetch, clock: () => clock.now,
  });
}

/** The CDN serving `files`, each index with an ETag of its content. */
function serve(files: Record<string, string>) {
  return Object.fromEntries(Object.entries(files).map(([p, body]) => [p, { body, etag: p.endsWith("index.json") ? `"${hex(sha256(utf8(body))).slice(0, 16)}"` : null }]));
}

const upgradeTask = (id: number, extra: object = {}) => ({
  id: `upgrade-task-${id}`, target: EVERYONE, ...extra,
  payload: { resultStatus: 204, taskId: String(id), downloadURL: `https://cdn.example/dl/${id}.apk`, newestVersion: "5.0" },
});
const WINDOW_END = NOW + 3600;
const windowTask = (closed: boolean) => upgradeTask(9, { dynamic: true, notAfter: WINDOW_END, ...(closed ? { closed: true } : {}) });
const GRANTED = { ...windowTask(false).payload, userId: "alice" };

function grant(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const document = {
    type: "mds-grant/1", appId: "APP", workspaceId: "default", product: "upgrade", candidate: "upgrade-task-9",
    identity: identityHash("alice"), until: WINDOW_END, issuedAt: NOW, ...changes,
  };
  return JSON.parse(seal(document));
}

const config = { id: "config-constant", target: EVERYONE, subject: "", payload: { configs: { feed_v2: { value: "true", type: "boolean" } } } };
const h5 = { id: "h5-task-1", target: EVERYONE, subject: "12345678", payload: { h5Id: "12345678", version: "1.0.0.1", amrUrl: "http://cdn.kit/a.amr" } };
const patch = { id: "hotpatch-release-1", target: EVERYONE, payload: { patchId: "1", revoked: [], rollbackSeq: 0 } };

describe("one check round", () => {
  it("answers every product from one conditional index request; a change to one product fetches only its segment", async () => {
    const network = new KitNetwork();
    const delivery = client(network);
    network.files = serve(publishAll({ upgrade: [upgradeTask(1)], config: [config], h5: [h5], hotpatch: [patch] }, 1, { pollSeconds: 900 }));
    const first = await delivery.checkRound(ALICE);
    assert.equal(first.requests[0], `GET /${INDEX} 200`);
    assert.equal(first.requests.length, 5, "the index and one segment per product");
    assert.deepEqual(Object.keys(first.decisions).sort(), ["config", "h5", "hotpatch", "upgrade"]);
    assert.deepEqual(first.errors, {});

    const again = await delivery.checkRound(ALICE);
    assert.deepEqual(again.requests, [`GET /${INDEX} 304`], "nothing changed: one request for four products");
    assert.equal(again.decisions.upgrade!.answer.taskId, "1");
    assert.equal(again.decisions.upgrade!.chosen[""], "upgrade-task-1");
    assert.deepEqual(again.decisions.config!.answer, { configs: { feed_v2: { value: "true", type: "boolean" } } });
    assert.deepEqual(again.decisions.h5!.chosen, { "12345678": "h5-task-1" });
    assert.equal(again.decisions.hotpatch!.answer.patchId, "1");
    assert.ok(Object.values(again.decisions).every((d) => d.static && d.sequence === 1 && d.nextCheckAt === NOW + 900));
    assert.equal(again.nextCheckAt, NOW + 900);
    assert.equal(network.posts.length, 0);

    const changed = { ...config, payload: { configs: { feed_v2: { value: "false", type: "boolean" } } } };
    network.files = serve(publishAll({ upgrade: [upgradeTask(1)], config: [changed], h5: [h5], hotpatch: [patch] }, 2, { pollSeconds: 900 }));
    const third = await delivery.checkRound(ALICE);
    assert.equal(third.requests.length, 2, third.requests.join(", "));
    assert.match(third.requests[1], /^GET \/m\/APP\/default\/config\/android\/seg\/.* 200$/);
    assert.deepEqual(third.decisions.config!.answer, { configs: { feed_v2: { value: "false", type: "boolean" } } });
    assert.equal(third.sequence, 2);
  });

  it("check(product) costs the one conditional index request too", async () => {
    const network = new KitNetwork();
    const delivery = client(network);
    network.files = serve(publishAll({ upgrade: [upgradeTask(1)], config: [config] }, 1));
    await delivery.check("upgrade", ALICE);
    const config1 = await delivery.check("config", ALICE);
    assert.deepEqual(config1.requests, [`GET /${INDEX} 304`, `GET /${segmentOf("config", [config])} 200`]);
    assert.deepEqual((await delivery.check("upgrade", ALICE)).requests, [`GET /${INDEX} 304`]);
  });

  it("the product clients act on a round's decisions with no request of their own", async () => {
    const network = new KitNetwork();
    const seen: string[] = [];
    const cdn = network.handle;
    network.handle = async (url, init) => (seen.push(new URL(url).pathname), cdn(url, init));
    network.files = serve(publishAll({ upgrade: [upgradeTask(1)], config: [config], hotpatch: [patch] }, 1));
    const mds = await createMds({
      cdnUrl: "http://cdn.kit", apiUrl: "http://api.kit", appId: "APP", workspaceId: "default", publicKeys: PUBLIC_KEYS,
      storage: new MemoryStorage(), fetch: network.fetch, clock: () => NOW, device: () => ALICE, events: false,
    });
    const round = await mds.delivery.checkRound(ALICE, ["upgrade", "config", "hotpatch"]);
    const asked = seen.length;
    const upgrade = await mds.upgrade.check(ALICE, { round });
    assert.equal(upgrade.result, "HAS_NEW_VERSION");
    assert.equal(upgrade.taskId, "1");
    assert.deepEqual(await mds.config.loadImmediately(ALICE, { round }), ["feed_v2"]);
    assert.equal(mds.config.get("feed_v2", false), true);
    assert.equal((await mds.hotpatch.sync(ALICE, { round, report: false })).answer.patchId, "1");
    assert.equal(seen.length, asked, "no request beyond the round's");
    await mds.upgrade.check(ALICE);
    assert.deepEqual(seen.slice(asked), [`/${INDEX}`], "without a round: one conditional index request");
  });

  it("a product's own failure leaves the others of the round standing", async () => {
    const network = new KitNetwork();
    const delivery = client(network);
    const files = serve(publishAll({ upgrade: [upgradeTask(1)], config: [config] }, 1));
    delete files[segmentOf("config", [config])]; // the config segment is not on the CDN (404)
    network.files = files;
    const cdn = network.handle;
    network.handle = async (url, init) => (url.startsWith("http://api.kit/") ? response(503, '{"error":"down"}') : cdn(url, init));
    const round = await delivery.checkRound(ALICE, ["upgrade", "config", "h5"]);
    assert.equal(round.decisions.upgrade!.answer.taskId, "1");
    assert.equal(round.errors.config?.kind, "format");
    assert.ok(round.decisions.config === undefined);
    // h5 has no section: only the API can answer, and it refuses
    assert.equal(round.errors.h5?.kind, "server");
    assert.equal(round.errors.h5?.status, 503);
    await assert.rejects(delivery.check("config", ALICE), (e: unknown) => (e as { kind?: string }).kind === "format");
  });
});

/** The path of a product's segment file. */
function segmentOf(product: string, candidates: object[]): string {
  return Object.keys(publishAll({ [product]: candidates }, 1)).find((p) => p.startsWith(`m/APP/default/${product}/android/seg/`))!;
}

describe("grants", () => {
  it("a place granted once stays on the device across a restart on the same storage, also once the window is closed", async () => {
    const network = new KitNetwork();
    const storage = new MemoryStorage();
    network.apiAnswer = { ...GRANTED, grants: [grant()] };
    network.files = serve(publishAll({ upgrade: [windowTask(false), upgradeTask(1)] }, 1));
    const first = await client(network, storage).check("upgrade", ALICE);
    assert.deepEqual(first.answer, GRANTED, "the grants are not part of the answer");
    assert.equal(first.static, false);
    assert.equal(network.posts.length, 1);
    assert.equal((network.posts[0].body as { protocol: number }).protocol, 2);

    network.files = serve(publishAll({ upgrade: [windowTask(true), upgradeTask(1)] }, 2)); // the window is full now
    const restarted = client(network, storage); // a new process: nothing in memory, the storage kept
    const after = await restarted.check("upgrade", ALICE);
    assert.deepEqual(after.answer, GRANTED);
    assert.equal(after.static, true);
    assert.equal(after.chosen[""], "upgrade-task-9");
    assert.equal(network.posts.length, 1, "no API call: the grant verifies on the device");
    assert.equal(await restarted.grantRefusal("upgrade", "upgrade-task-9", ALICE), null);
    assert.deepEqual((await restarted.grants()).map((g) => [g.candidate, g.until]), [["upgrade-task-9", WINDOW_END]]);

    // a context change of the same user keeps the place; the window's end ends it
    const cellular = await restarted.check("upgrade", { ...ALICE, netType: "4G", city: "Hangzhou" });
    assert.equal(cellular.answer.taskId, "9");
    const ended = await client(network, storage, { now: WINDOW_END }).check("upgrade", ALICE);
    assert.equal(ended.answer.taskId, "1");
    assert.equal(network.posts.length, 1);
  });

  it("a grant for another device, another release or another workspace is not held", async () => {
    const network = new KitNetwork();
    const storage = new MemoryStorage();
    const foreign = [grant({ identity: identityHash("bob") }), grant({ candidate: "upgrade-task-1" }), grant({ workspaceId: "staging" }), grant({ until: NOW })];
    network.apiAnswer = { ...GRANTED, grants: foreign };
    network.files = serve(publishAll({ upgrade: [windowTask(false), upgradeTask(1)] }, 1));
    const delivery = client(network, storage);
    assert.deepEqual((await delivery.check("upgrade", ALICE)).answer, GRANTED);
    assert.equal(await delivery.grantRefusal("upgrade", "upgrade-task-9", ALICE), "missing");
    const kept = (await delivery.grants()).map((g) => [g.candidate, g.identity]).sort();
    assert.deepEqual(kept, [["upgrade-task-1", identityHash("alice")], ["upgrade-task-9", identityHash("bob")]], "the ones of this workspace that still run");
    assert.equal(await delivery.grantRefusal("upgrade", "upgrade-task-9", { ...ALICE, userId: "bob" }), null, "bob's, for bob");

    network.files = serve(publishAll({ upgrade: [windowTask(true), upgradeTask(1)] }, 2));
    const closed = await delivery.check("upgrade", ALICE);
    assert.equal(closed.answer.taskId, "1", "closed and not held: skipped");
    assert.equal(closed.static, true);
    assert.equal(network.posts.length, 1);
  });

  it("a stored grant that ran out is dropped with the next answer of the API", async () => {
    const network = new KitNetwork();
    const storage = new MemoryStorage();
    const clock = { now: NOW };
    network.apiAnswer = { ...GRANTED, grants: [grant({ until: NOW + 60 })] };
    network.files = serve(publishAll({ upgrade: [windowTask(false), upgradeTask(1)] }, 1));
    const delivery = client(network, storage, clock);
    await delivery.check("upgrade", ALICE);
    assert.equal((await delivery.grants()).length, 1);
    clock.now = NOW + 60;
    assert.equal(await delivery.grantRefusal("upgrade", "upgrade-task-9", ALICE), "expired");
    network.apiAnswer = { resultStatus: 201, userId: "alice" };
    assert.equal((await delivery.check("upgrade", { ...ALICE, city: "Hangzhou" })).static, false);
    assert.deepEqual(await delivery.grants(), []);
    assert.equal(await delivery.grantRefusal("upgrade", "upgrade-task-9", ALICE), "missing");
  });

  it("alice's grant does not give the window to another user of the same phone", async () => {
    const network = new KitNetwork();
    const storage = new MemoryStorage();
    network.apiAnswer = { ...GRANTED, grants: [grant()] };
    network.files = serve(publishAll({ upgrade: [windowTask(false), upgradeTask(1)] }, 1));
    const delivery = client(network, storage);
    await delivery.check("upgrade", ALICE);
    const carol = { ...ALICE, userId: "carol" };
    assert.equal(await delivery.grantRefusal("upgrade", "upgrade-task-9", carol), "missing");
    network.apiAnswer = { resultStatus: 201, userId: "carol" };
    const open = await delivery.check("upgrade", carol);
    assert.equal(open.static, false, "open window, no grant for carol: the API is asked");
    assert.deepEqual(open.answer, { resultStatus: 201, userId: "carol" });
    network.files = serve(publishAll({ upgrade: [windowTask(true), upgradeTask(1)] }, 2));
    const closed = await delivery.check("upgrade", carol);
    assert.equal(closed.answer.taskId, "1");
    assert.equal(network.posts.length, 2);
    assert.equal((await delivery.check("upgrade", ALICE)).answer.taskId, "9", "alice still holds hers");
  });

  it("a stored grant that no longer verifies (tampered in storage, or the key is no longer pinned) is not held", async () => {
    const network = new KitNetwork();
    const storage = new MemoryStorage();
    network.apiAnswer = { ...GRANTED, grants: [grant()] };
    network.files = serve(publishAll({ upgrade: [windowTask(false), upgradeTask(1)] }, 1));
    const delivery = client(network, storage);
    await delivery.check("upgrade", ALICE);
    const raw = JSON.parse(new TextDecoder().decode((await storage.get("delivery/state.json"))!));
    const key = Object.keys(raw.grants)[0];
    const payload = JSON.parse(Buffer.from(raw.grants[key].payload, "base64url").toString());
    raw.grants[key].payload = Buffer.from(JSON.stringify({ ...payload, until: WINDOW_END + 86_400 })).toString("base64url");
    await storage.set("delivery/state.json", utf8(JSON.stringify(raw)));
    assert.equal(await delivery.grantRefusal("upgrade", "upgrade-task-9", ALICE), "signature");
    network.files = serve(publishAll({ upgrade: [windowTask(true), upgradeTask(1)] }, 2));
    assert.equal((await delivery.check("upgrade", ALICE)).answer.taskId, "1");
  });
});

describe("what protocol 1 left on the device", () => {
  it("its per-product index files and state are dropped once the platform's index is stored", async () => {
    const network = new KitNetwork();
    const storage = new MemoryStorage();
    const old = "m/APP/default/upgrade/android/index.json";
    await storage.set(`files/${old}`, utf8("{}"));
    await storage.set("delivery/state.json", utf8(JSON.stringify({ etags: { [old]: '"x"' }, sequences: { [old]: 41 }, dynamic: { [`${old}@41:upgrade-task-9:abc`]: { resultStatus: 204 } } })));
    network.files = serve(publishAll({ upgrade: [upgradeTask(1)] }, 1));
    await client(network, storage).check("upgrade", ALICE);
    assert.equal(await storage.get(`files/${old}`), null);
    const state = JSON.parse(new TextDecoder().decode((await storage.get("delivery/state.json"))!));
    assert.deepEqual(Object.keys(state.sequences), [INDEX]);
    assert.deepEqual(Object.keys(state.etags), [INDEX]);
  });
});
