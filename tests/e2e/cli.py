"""The `mds` CLI as a user runs it against the running local stack: a subprocess with the stack's
endpoint and a session file of its own (simulated phones keep their state next to it)."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.conftest import PROJECT_DIR, child_environment


def run_mds(stack, session, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **child_environment(),
        "MDS_ENDPOINT": stack.api_url,
        "MDS_SESSION_FILE": str(session),
        "MDS_DEVICE_DIR": str(session.parent / "phones"),  # never in the user's home
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "mds.cli", *args],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def mds(stack, session, *args: str) -> str:
    """Runs a command that must succeed; returns its output."""
    done = run_mds(stack, session, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def mds_fail(stack, session, *args: str) -> str:
    """Runs a command that must be refused (exit 1); returns what it printed."""
    done = run_mds(stack, session, *args)
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stdout + done.stderr
