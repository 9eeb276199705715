"""The HTTP client every `mds` command uses: the same public API the console and CI use.

Authentication, in order: an AccessKey pair from the environment (``MDS_ACCESS_KEY_ID`` +
``MDS_ACCESS_KEY_SECRET``, for CI; requests are signed ACS3-HMAC-SHA256), else the session token
saved by ``mds login``.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

DEFAULT_ENDPOINT = "http://127.0.0.1:8000"
SIGNING_VERSION = "2020-10-28"


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, field: str | None, request_id: str | None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.request_id = (
            status,
            code,
            message,
            field,
            request_id,
        )

    def __str__(self) -> str:
        where = f" (field: {self.field})" if self.field else ""
        origin = f" [HTTP {self.status}, request {self.request_id}]" if self.request_id else ""
        return f"{self.code}: {self.message}{where}{origin}"


def session_file() -> Path:
    return Path(os.environ.get("MDS_SESSION_FILE", Path.home() / ".mds" / "session.json"))


@dataclass
class Session:
    endpoint: str
    token: str | None = None
    username: str | None = None
    app_id: str | None = None
    workspace_id: str | None = None

    @classmethod
    def load(cls) -> Session:
        endpoint = os.environ.get("MDS_ENDPOINT")
        path = session_file()
        saved: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        if endpoint and saved.get("endpoint") not in (None, endpoint):
            saved = {}  # a session for another endpoint is no use here
        return cls(
            endpoint=(endpoint or saved.get("endpoint") or DEFAULT_ENDPOINT).rstrip("/"),
            token=saved.get("token"),
            username=saved.get("username"),
            app_id=saved.get("appId"),
            workspace_id=saved.get("workspaceId"),
        )

    def save(self) -> Path:
        path = session_file()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "endpoint": self.endpoint,
            "token": self.token,
            "username": self.username,
            "appId": self.app_id,
            "workspaceId": self.workspace_id,
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        return path


class MdsClient:
    def __init__(self, session: Session, *, timeout: float = 30.0) -> None:
        self.session = session
        self._http = httpx.Client(base_url=session.endpoint, timeout=timeout)
        self._ak = (os.environ.get("MDS_ACCESS_KEY_ID"), os.environ.get("MDS_ACCESS_KEY_SECRET"))

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, Any] | None = None,
        authenticated: bool = True,
    ) -> Any:
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        content = json.dumps(body).encode() if body is not None else b""
        headers = {"content-type": "application/json"} if body is not None else {}
        if authenticated:
            headers.update(self._auth_headers(method, path, params, headers, content))
        resp = self._http.request(
            method, path, params=params or None, content=content or None, headers=headers
        )
        if resp.status_code == 204:
            return None
        try:
            data = resp.json()
        except ValueError:
            raise ApiError(resp.status_code, "BadResponse", resp.text[:200], None, None) from None
        if resp.status_code >= 400:
            raise ApiError(
                resp.status_code,
                data.get("code", "Error"),
                data.get("message", ""),
                data.get("field"),
                data.get("requestId"),
            )
        return data

    def _auth_headers(
        self, method: str, path: str, params: dict[str, str], headers: dict[str, str], content: bytes
    ) -> dict[str, str]:
        key_id, secret = self._ak
        if key_id and secret:
            from chalicelib.security.acs_signature import sign_acs3

            host = urlsplit(self.session.endpoint).netloc
            return sign_acs3(
                method,
                host,
                path,
                params,
                headers,
                content,
                key_id,
                secret,
                now=datetime.now(UTC),
                nonce=uuid.uuid4().hex,
                action="Console",
                version=SIGNING_VERSION,
            )
        self._require_credentials()
        return {"authorization": f"Bearer {self.session.token}"}

    def _require_credentials(self) -> None:
        if not self.session.token and not all(self._ak):
            raise ApiError(
                401, "NotLoggedIn", "run `mds login` first (or set MDS_ACCESS_KEY_ID/SECRET)", None, None
            )

    def workspace_path(self, app_id: str | None, workspace_id: str | None, suffix: str = "") -> str:
        self._require_credentials()
        app_id = app_id or os.environ.get("MDS_APP_ID") or self.session.app_id
        workspace_id = workspace_id or os.environ.get("MDS_WORKSPACE_ID") or self.session.workspace_id
        if not app_id or not workspace_id:
            raise ApiError(
                400, "NoWorkspace", "pass --app and --workspace (or log in to pick a default)", "appId", None
            )
        return f"/api/apps/{app_id}/workspaces/{workspace_id}{suffix}"
