// Times the built SDK's decideEach on the devices and segment given on stdin (bench/js_sdk.py).
// Prints {"decisionsPerSecond", "chosen": [candidate id or null per device]} (the answers are compared).
import { readFileSync } from "node:fs";
import { Candidate, Device, decideEachNow } from "../dist/esm/index.js";

const { candidates, devices, now, seconds, rounds } = JSON.parse(readFileSync(0, "utf-8"));
const segment = candidates.map((c) => new Candidate(c));
const parsed = devices.map((d) => Device.fromContext(d));
const chosen = parsed.map((d) => decideEachNow(segment, d, null, now)[""]?.id ?? null);
const rates = [];
for (let round = 0; round < rounds; round++) {
  let decisions = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(seconds * 1e9));
  let end = start;
  while (end < until) {
    for (const device of parsed) decideEachNow(segment, device, null, now);
    decisions += parsed.length;
    end = process.hrtime.bigint();
  }
  rates.push(decisions / (Number(end - start) / 1e9));
}
rates.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ decisionsPerSecond: rates[rates.length >> 1], chosen }));
