"""The Android SDK (clients/android) against the Python engine, measured in the same run (docs/clients/android.md).

1. ``engine``: decisions per second (one ``decide_each`` over a segment's candidates for one device) of the
   SDK's ``Selector.decideEach`` on the JVM over the Python domain's ``decide_each``, on the same segment and
   devices as bench/js_sdk.py (24 upgrade candidates with rules and rollouts, 2,000 devices; no whitelists).
   Devices are parsed and candidates compiled outside the timed loop on both sides, the JVM is warmed up for
   2 s first, and both must choose the same candidate for every device. Medians of 5 rounds. Goal: >= 3x.
2. ``jar``: the size of mds-client-android.jar (without BouncyCastle and org.json). Goal: <= 150 KB.

Builds the jar with ``make -C clients/android jar``. Exit status 1 if a goal is missed.

    python bench/android_sdk.py
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from js_sdk import NOW, ROUNDS, SECONDS, devices, python_rate, segment

from chalicelib.domain.delivery import decide_each
from chalicelib.domain.targeting import Device

ANDROID = Path(__file__).resolve().parents[1] / "clients" / "android"
JAR = ANDROID / "build" / "mds-client-android.jar"
LIBS = ["/usr/share/java/bcprov.jar", "/usr/share/java/com.android.json.jar"]


def java_engine(request: dict) -> dict:
    subprocess.run(["make", "-s", "-C", str(ANDROID), "jar"], check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as classes:
        classpath = ":".join([str(JAR), *LIBS])
        subprocess.run(["javac", "--release", "8", "-nowarn", "-cp", classpath, "-d", classes,
                        str(ANDROID / "tools" / "BenchEngine.java")], check=True, capture_output=True)  # fmt: skip
        run = subprocess.run(["java", "-cp", f"{classes}:{classpath}", "BenchEngine"], input=json.dumps(request),
                             capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(run.stdout)


def main() -> int:
    rng = random.Random(14)
    candidates, contexts = segment(rng), devices(rng)
    parsed = [Device.from_context(c) for c in contexts]
    expected = [(decide_each(candidates, d, None, now=NOW).get("") or None) for d in parsed]
    request = {"candidates": [c.to_json() for c in candidates], "devices": contexts, "now": NOW,
               "seconds": SECONDS, "rounds": ROUNDS}  # fmt: skip
    java = java_engine(request)
    disagreements = sum(a != (b.id if b else None) for a, b in zip(java["chosen"], expected, strict=True))
    python = python_rate(candidates, parsed)
    ratio = java["decisionsPerSecond"] / python
    size = JAR.stat().st_size
    print(json.dumps({"figure": "engine", "java_decisions_per_s": round(java["decisionsPerSecond"]),
                      "python_decisions_per_s": round(python), "ratio": round(ratio, 2),
                      "disagreements": disagreements, "goal": ">= 3"}))  # fmt: skip
    print(json.dumps({"figure": "jar", "bytes": size, "goal": "<= 150 KB"}))
    kb = round(size / 1024)
    print(f"android-sdk: engine {ratio:.1f}x python, jar {kb} KB")
    return 0 if ratio >= 3 and size <= 150 * 1024 and disagreements == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
