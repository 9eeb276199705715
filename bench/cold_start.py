"""Cold start: time to `import app` in a fresh interpreter, as a ratio to `import boto3` in the same run.

Each sample is a new Python process that times only the import (interpreter start-up excluded).
Samples alternate between the two so machine noise hits both alike; medians are compared.
Target (issue #3): ratio <= 2.0. Exit status 1 if the target is missed.

    python bench/cold_start.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 2.0

_TIMER = "import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"


def sample(module: str) -> float:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _TIMER.format(module=module)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    sample("app"), sample("boto3")  # warm the OS file cache and .pyc files first
    app_times, boto_times = [], []
    for _ in range(args.rounds):
        app_times.append(sample("app"))
        boto_times.append(sample("boto3"))
    app_ms, boto_ms = statistics.median(app_times) * 1000, statistics.median(boto_times) * 1000
    ratio = app_ms / boto_ms
    print(
        json.dumps(
            {
                "benchmark": "cold_start",
                "rounds": args.rounds,
                "import_app_ms_median": round(app_ms, 1),
                "import_boto3_ms_median": round(boto_ms, 1),
                "ratio": round(ratio, 2),
                "target": TARGET,
                "met": ratio <= TARGET,
            }
        )
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
