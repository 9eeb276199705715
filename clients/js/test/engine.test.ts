// The decision engine's fast paths against the plain computation they replace (the kit pins a few values;
// these cover every message length around the SHA-256 block edges, non-ASCII text and buffer reuse).
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { BUCKETS, bucket } from "../src/index.js";
import { utf8 } from "../src/text.js";

function plainBucket(salt: string, identity: string): number {
  const d = sha256(utf8(`${salt}:${identity}`));
  let value = 0n;
  for (let i = 0; i < 8; i++) value = value * 256n + BigInt(d[i]);
  return Number(value % BigInt(BUCKETS));
}

describe("rollout buckets", () => {
  it("equal uint64_be(sha256(salt:identity)[0:8]) mod 10000 for any length and text", () => {
    const alphabets = ["abcXYZ019-_.", "é用户\u0000\u007f\u0080\u07ff\u0800\uffff😀"];
    // long then short then long again: what a longer message left in the reused buffer must not count
    for (const lengths of [[...Array(200).keys()], [...Array(200).keys()].reverse()]) {
      for (const length of lengths) {
        for (const alphabet of alphabets) {
          const chars = [...alphabet];
          const identity = Array.from({ length }, (_, i) => chars[(i * 7 + length) % chars.length]).join("");
          for (const salt of ["s", "task-42", ""]) {
            assert.equal(bucket(salt, identity), plainBucket(salt, identity), JSON.stringify([salt, identity]));
          }
        }
      }
    }
  });
});
