// The TypeScript SDK runs the whole conformance kit (clients/conformance/README.md).
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Candidate, CompiledTarget, DeliveryClient, Device, HotpatchClient, MdsError, MemoryStorage, NeedsServer, PublishedMembership,
  UpgradeClient, Version, VersionRange, answerFor, bucket, decideEach, findSegment, grantRefusal, intervalSeconds, normalizeNetwork,
  openEnvelope, reportedNetwork, publicKeys, rsaPublicKey, typedValue, verifyAmr,
} from "../src/index.js";
import { fromBase64 } from "../src/text.js";
import { cutPosition, segmentIndex } from "../src/versions.js";
import { KitNetwork, kit } from "./kit.js";

function fieldOf(action: () => unknown): string | null {
  try {
    action();
  } catch (error) {
    if (error instanceof MdsError) return error.field ?? null;
    throw error;
  }
  return null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function membership(data: any): PublishedMembership {
  return new PublishedMembership(data.whitelists, async (path) => data.files[path] ?? null, publicKeys(data.publicKeys));
}

describe("versions", () => {
  const data = kit("versions");
  it("parse, parseReported", () => {
    for (const [cases, parse] of [[data.parse, Version.parse], [data.parseReported, Version.parseReported]] as const) {
      for (const c of cases) {
        if ("error" in c) assert.equal(fieldOf(() => parse(c.input, "clientVersion")), c.error, c.input);
        else assert.equal(parse(c.input, "clientVersion").canonical, c.canonical, c.input);
      }
    }
  });
  it("parseLenient, compare, ranges, segments", () => {
    for (const c of data.parseLenient) assert.equal(Version.parseLenient(c.input)?.canonical ?? null, c.canonical, c.input);
    for (const c of data.compare) assert.equal(Version.parse(c.a).compare(Version.parse(c.b)), c.order, `${c.a} vs ${c.b}`);
    for (const c of data.ranges) assert.equal(new VersionRange(c.range).contains(Version.parse(c.version)), c.contains, JSON.stringify(c));
    for (const c of data.segments) assert.equal(segmentIndex(Version.parse(c.version), c.cuts.map(cutPosition)), c.index, JSON.stringify(c));
  });
});

describe("targeting", () => {
  const data = kit("targeting");
  it("buckets and networks", () => {
    for (const c of data.buckets) assert.equal(bucket(c.salt, c.identity), c.bucket, JSON.stringify(c));
    for (const c of data.networks) assert.equal(normalizeNetwork(c.input), c.token, JSON.stringify(c));
    for (const c of data.reportedNetworks) assert.equal(reportedNetwork(c.input), c.token, JSON.stringify(c));
  });
  it("matches (every rule type and operation, lists through shards)", async () => {
    const lists = membership(data);
    const targets = Object.fromEntries(Object.entries(data.targets).map(([k, v]) => [k, CompiledTarget.fromJson(v)]));
    const wrong = [];
    for (const c of data.matches) {
      const device = Device.fromContext(data.devices[c.device]);
      const candidate = new Candidate({ id: "c", target: data.targets[c.target] });
      assert.ok(targets[c.target]);
      const chosen = await decideEach([candidate], device, lists, 0);
      if (("" in chosen) !== c.matches) wrong.push(`${c.target} / ${c.device}`);
    }
    assert.deepEqual(wrong, []);
    assert.ok(data.matches.length > 500);
  });
  it("device errors name the field", () => {
    for (const c of data.deviceErrors) assert.equal(fieldOf(() => Device.fromContext(c.device)), c.error, JSON.stringify(c.device));
  });
});

describe("envelopes", () => {
  const data = kit("envelopes");
  for (const c of data.cases) {
    it(c.name, () => {
      const keys = publicKeys(c.publicKeys ?? data.publicKeys);
      if (c.valid) assert.deepEqual(openEnvelope(c.file, keys, "index").document, c.document);
      else assert.throws(() => openEnvelope(c.file, keys, "index"), (e: unknown) => e instanceof MdsError && e.kind === c.reason);
    });
  }
});

describe("delivery", () => {
  const data = kit("delivery");
  it("segment selection by cuts", () => {
    for (const c of data.segments.cases) {
      const device = Device.fromContext({ platform: "android", clientVersion: c.clientVersion });
      assert.equal(findSegment(data.segments.index, device.clientVersion).path, c.path, String(c.clientVersion));
    }
  });
  it("decideEach", async () => {
    const candidates = Object.fromEntries(Object.entries(data.candidates).map(([k, v]) => [k, (v as []).map((c) => new Candidate(c))]));
    for (const c of data.decisions) {
      const device = Device.fromContext(data.devices[c.device]);
      const name = `${c.candidates} / ${c.device} / ${c.now}`;
      // `held`: the device holds valid grants for those candidates (held → chosen; closed → skipped; else ask)
      const held: string[] | undefined = c.held;
      const claim = held === undefined ? null : (x: Candidate) => {
        if (held.includes(x.id)) return true;
        if (x.closed) return false;
        throw new NeedsServer(x);
      };
      try {
        const chosen = await decideEach(candidates[c.candidates], device, membership(data), c.now, claim);
        assert.deepEqual(Object.fromEntries(Object.entries(chosen).map(([s, x]) => [s, x.id])), c.chosen, name);
      } catch (error) {
        if (!(error instanceof NeedsServer)) throw error;
        assert.equal(error.candidate.id, c.askServer, name);
      }
    }
    assert.ok(data.decisions.some((c: { held?: string[] }) => c.held?.length), "the kit has decisions with grants held");
  });
});

describe("grants", () => {
  const data = kit("grants");
  for (const c of data.cases) {
    it(c.name, () => {
      const keys = publicKeys(c.publicKeys ?? data.publicKeys);
      const check = { ...data.app, product: c.product, candidate: c.candidate, device: Device.fromContext(c.device), now: c.now };
      const refusal = grantRefusal(c.file, keys, check);
      assert.equal(refusal, c.held ? null : c.reason);
    });
  }
});

describe("answers", () => {
  const data = kit("answers");
  it("each product's answer from a decision", () => {
    for (const c of data.answers) {
      const chosen = Object.fromEntries(Object.entries(c.chosen).map(([s, x]) => [s, new Candidate(x as never)]));
      assert.deepEqual(answerFor(c.product, chosen, Device.fromContext(c.device)), c.answer, JSON.stringify(c.chosen));
    }
    for (const c of data.configValues) assert.deepEqual(typedValue(c.type, c.text), c.value, JSON.stringify(c));
    for (const c of data.configIntervals) assert.equal(intervalSeconds(c.configs), c.seconds, JSON.stringify(c));
  });
});

describe("amr", () => {
  const data = kit("amr");
  for (const c of data.cases) {
    it(c.name, async () => {
      const key = rsaPublicKey(data.publicKeys[c.key]);
      const verifying = verifyAmr(chunked(fromBase64(c.amr)), key, { expectedSha256: c.expectedSha256 });
      if (c.valid) {
        const verified = await verifying;
        assert.deepEqual(Object.fromEntries(verified.files.map((f) => [f.path, f.sha256])), c.files);
        assert.equal(verified.version, c.version);
      } else {
        await assert.rejects(verifying, (e: unknown) => e instanceof MdsError && e.kind === c.reason);
      }
    });
  }
});

function* chunked(bytes: Uint8Array, size = 700): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe("scenarios", () => {
  const data = kit("scenarios");
  const setup = () => {
    const network = new KitNetwork();
    const clock = { now: data.now };
    const storage = new MemoryStorage();
    // a restarted app: new clients over the same storage (nothing in memory survives)
    const start = () => new DeliveryClient({
      cdnUrl: "http://cdn.kit", apiUrl: "http://api.kit", ...data.app, publicKeys: data.publicKeys,
      storage, fetch: network.fetch, clock: () => clock.now,
    });
    return { network, clock, delivery: start(), start };
  };
  for (const scenario of data.upgrade.scenarios) {
    it(`upgrade: ${scenario.name}`, async () => {
      const { network, clock, delivery, start } = setup();
      let upgrade = new UpgradeClient(delivery, () => "WIFI");
      network.apiAnswer = scenario.api?.answer ?? null;
      for (const [number, step] of scenario.steps.entries()) {
        if (step.restart) upgrade = new UpgradeClient(start(), () => "WIFI");
        network.files = step.cdn;
        clock.now = step.now ?? data.now;
        const device = step.device ?? data.upgrade.device;
        const posts = network.posts.length;
        const check = await upgrade.check(device);
        for (const post of network.posts.slice(posts)) assert.equal((post.body as { protocol?: unknown }).protocol, 2, `step ${number}: ${post.path}`);
        if (step.expect.error) {
          assert.equal(check.result, "HAS_SOME_ERROR", `step ${number}`);
          assert.equal(check.error?.kind, step.expect.error, `step ${number}`);
          continue;
        }
        assert.ok(check.decision, `step ${number}: ${check.error}`);
        const got: Record<string, unknown> = { ...check.decision, prompt: check.prompt };
        const picked = Object.fromEntries(Object.keys(step.expect).map((k) => [k, got[k]]));
        assert.deepEqual(picked, step.expect, `step ${number}`);
        assert.ok(!("grants" in check.answer), `step ${number}: the grants are not part of the answer`);
      }
    });
  }
  for (const scenario of data.hotpatch.scenarios) {
    it(`hotpatch: ${scenario.name}`, async () => {
      const { network, delivery } = setup();
      const patches = new HotpatchClient(delivery, data.patchKeys);
      for (const [number, step] of scenario.steps.entries()) {
        const device = data.hotpatch.device;
        network.files = step.cdn ?? network.files;
        const result = step.replay ? await patches.applyAnswer(step.replay, device) : await patches.sync(device);
        const got: Record<string, unknown> = { ...result };
        assert.deepEqual(Object.fromEntries(Object.keys(step.expect).map((k) => [k, got[k]])), step.expect, `step ${number}`);
      }
    });
  }
});

