"""Fixtures shared by the integration tests (builders are in tests/builders.py)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mds.cli import app


@pytest.fixture(scope="session")
def rsa_pem() -> bytes:
    """An RSA 2048 private key (PEM) for H5 package signing; one per session (generating one takes time)."""
    from chalicelib.security import rsa_keys

    return rsa_keys.private_key_pem(rsa_keys.generate_private_key())


@pytest.fixture
def mds_logged_out(http_endpoint, tmp_path, monkeypatch):
    """The `mds` CLI in process against the app over real HTTP, with a session file of its own and no
    credentials: ``mds_logged_out("login", ...)``; ``ok=False`` for a command that may fail."""
    monkeypatch.setenv("MDS_ENDPOINT", f"http://{http_endpoint}")
    monkeypatch.setenv("MDS_SESSION_FILE", str(tmp_path / "session.json"))
    for name in ("MDS_ACCESS_KEY_ID", "MDS_ACCESS_KEY_SECRET", "MDS_APP_ID", "MDS_WORKSPACE_ID"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "200"})
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture
def mds(mds_logged_out, demo, tmp_path):
    """The same CLI logged in as the demo admin: ``mds("upgrade", "package", "list")``."""
    bootstrap = tmp_path / "bootstrap.json"
    bootstrap.write_text(json.dumps(demo))
    mds_logged_out("login", "--bootstrap", str(bootstrap))
    return mds_logged_out
