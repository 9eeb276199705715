// Simulated phones on the built SDK, driven by JSON lines on stdin (one reply line per request).
// Used by tests/e2e/test_js_sdk.py against the real local stack; state lives in files under `stateDir`.
import { createInterface } from "node:readline";
import { MemoryStorage, createMds, toBase64 } from "../dist/esm/index.js";
import { NodeFileStorage } from "../dist/esm/node.js";

let setup = null;
const phones = new Map();
const events = new Map();

// A phone made with a device that has a deviceId reports events (mds.events) as its products work.
async function phone(name, net = "WIFI", device = null) {
  if (!phones.has(name)) {
    const storage = name.startsWith("memory:") ? new MemoryStorage() : new NodeFileStorage(`${setup.stateDir}/${name}`);
    const state = { net, device };
    const mds = await createMds({ ...setup, storage, networkType: () => state.net, ...(device ? { device: () => state.device } : {}) });
    phones.set(name, { mds, state });
    events.set(name, []);
  }
  const found = phones.get(name);
  found.state.net = net;
  if (device) found.state.device = device;
  return found.mds;
}

const plain = (value) => JSON.parse(JSON.stringify(value, (k, v) => (v instanceof Error ? { kind: v.kind, message: v.message } : v)));

const ops = {
  init: async (r) => ((setup = r.setup), "ok"),
  "upgrade.check": async (r) => {
    const check = await (await phone(r.phone, r.net, r.device)).upgrade.check(r.device);
    const { decision, ...rest } = check;
    return { ...rest, static: decision?.static ?? null };
  },
  // one check round (client protocol 2): every product from one conditional index request
  "delivery.round": async (r) => (await phone(r.phone, r.net, r.device)).delivery.checkRound(r.device, r.products),
  "delivery.grants": async (r) => (await phone(r.phone)).delivery.grants(),
  "h5.sync": async (r) => (await phone(r.phone, r.net, r.device)).h5.sync(r.device, { force: true }),
  "h5.installed": async (r) => (await phone(r.phone)).h5.installed(),
  "h5.read": async (r) => {
    const bytes = await (await phone(r.phone)).h5.read(r.url);
    return bytes && toBase64(bytes);
  },
  "config.listen": async (r) => {
    (await phone(r.phone)).config.onChange(r.key, (key, value) => events.get(r.phone).push([key, value]));
    return "ok";
  },
  "config.load": async (r) => (await phone(r.phone, undefined, r.device)).config.loadImmediately(r.device),
  "config.get": async (r) => (await phone(r.phone)).config.get(r.key) ?? null,
  "config.events": async (r) => events.get(r.phone),
  "hotpatch.sync": async (r) => {
    const { applied, actions, answer, static: fromCdn } = await (await phone(r.phone, undefined, r.device)).hotpatch.sync(r.device);
    return { applied, actions, answer, static: fromCdn };
  },
  "hotpatch.replay": async (r) => (await (await phone(r.phone)).hotpatch.applyAnswer(r.answer, r.device)).applied,
  "events.record": async (r) => (await phone(r.phone)).events.record(r.type, r.release, { reason: r.reason ?? undefined }),
  "events.queued": async (r) => (await phone(r.phone)).events.pending(),
  "events.pending": async (r) => (await (await phone(r.phone)).events.pending()).length,
  "events.flush": async (r) => (await phone(r.phone)).events.flush(),
  // many devices, one check each, on one shared memory storage (as many phones behind one CDN); `grants`: the
  // time-window grants these devices hold already
  checks: async (r) => {
    const mds = await phone(`memory:${r.product}`);
    if (r.grants) await mds.delivery.keepGrants(r.grants);
    const answers = [];
    for (const device of r.devices) answers.push((await mds.delivery.check(r.product, device)).answer);
    return answers;
  },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const request = JSON.parse(line);
  try {
    process.stdout.write(JSON.stringify({ ok: plain(await ops[request.op](request)) }) + "\n");
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: `${error.name}: ${error.message}`, kind: error.kind ?? null }) + "\n");
  }
}
