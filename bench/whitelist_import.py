"""Whitelist import of 500,000 IDs through the API, against merely reading and hashing the same file.

The import runs the real path on moto: create the list (console API), request an import (presigned
POST), upload the file to S3, deliver the S3 → SQS event to the same handler Lambda runs, which
validates, merges, writes the member object and commits. The baseline reads the file and SHA-256s
every ID once. Both are timed in the same process, in the same run.

    python bench/whitelist_import.py [--ids 500000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

from moto_env import moto_stack


def baseline(path: Path) -> float:
    started = time.perf_counter()
    for line in path.read_text().splitlines():
        hashlib.sha256(line.strip().encode()).digest()
    return time.perf_counter() - started


def through_the_api(path: Path, tmp: Path) -> tuple[float, dict]:
    import boto3
    import requests
    from chalice.test import Client

    with moto_stack(tmp) as res:
        from app import app, on_upload_event
        from chalicelib.services.demo import ensure_demo

        creds = ensure_demo()
        ws = f"/api/apps/{creds['appId']}/workspaces/{creds['workspaceId']}"
        with Client(app) as client:

            def call(method, url, body=None, token=None):
                headers = {"content-type": "application/json"}
                if token:
                    headers["authorization"] = f"Bearer {token}"
                reply = getattr(client.http, method)(
                    url, headers=headers, body=json.dumps(body or {}).encode()
                )
                return json.loads(reply.body)

            token = call(
                "post", "/api/auth/login", {"username": creds["username"], "password": creds["password"]}
            )["token"]
            wid = call("post", ws + "/whitelists", {"name": "bench", "type": "normal"}, token)["whitelistId"]
            sqs = boto3.client("sqs", region_name="us-east-1")
            started = time.perf_counter()
            upload = call("post", ws + f"/whitelists/{wid}/imports", {"filename": "ids.txt"}, token)
            with path.open("rb") as f:
                requests.post(
                    upload["post"]["url"],
                    data=upload["post"]["fields"],
                    files={"file": ("ids.txt", f)},
                    timeout=600,
                )
            messages = sqs.receive_message(QueueUrl=res.queue_urls["EventsQueue"], MaxNumberOfMessages=1)[
                "Messages"
            ]
            on_upload_event(
                {
                    "Records": [
                        {
                            "messageId": m["MessageId"],
                            "receiptHandle": m["ReceiptHandle"],
                            "body": m["Body"],
                            "attributes": {},
                            "messageAttributes": {},
                            "eventSource": "aws:sqs",
                            "eventSourceARN": "arn",
                            "awsRegion": "us-east-1",
                        }
                        for m in messages
                    ]
                },
                None,
            )
            status = call("get", ws + f"/uploads/{upload['uploadId']}", token=token)
            elapsed = time.perf_counter() - started
    return elapsed, status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=500_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        path = tmp / "ids.txt"
        path.write_text("\n".join(f"user-{n:09d}" for n in range(args.ids)) + "\n")
        size_mb = path.stat().st_size / 1e6
        base = min(baseline(path) for _ in range(3))
        elapsed, status = through_the_api(path, tmp)
    ok = status.get("status") == "processed" and status["result"]["added"] == args.ids
    print(json.dumps({
        "benchmark": "whitelist_import", "ids": args.ids, "file_mb": round(size_mb, 1),
        "import_s": round(elapsed, 2), "read_and_hash_s": round(base, 2), "ratio": round(elapsed / base, 1),
        "completed": ok,
    }))  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
