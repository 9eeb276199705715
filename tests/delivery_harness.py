"""Wiring for static-delivery tests: a CDN transport serving the delivery bucket (moto) the way the
CDN emulator and CloudFront do (ETag, 304), and an API transport into the Chalice app."""

from __future__ import annotations

import hashlib
import json

import httpx


class BucketCdn(httpx.BaseTransport):
    """GET /<key> from the delivery bucket with ETag / If-None-Match → 304, as the CDN answers."""

    def __init__(self, tamper=None, *, edge_cache: bool = False) -> None:
        self.tamper = tamper  # optional fn(path, bytes) -> bytes, to play a hostile network
        # edge_cache: keep what was read, as an edge does until an invalidation; for many devices checking
        # between two publishes (a new BucketCdn after each publish stands for the invalidation)
        self._cache: dict[str, bytes | None] | None = {} if edge_cache else None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.lstrip("/")
        body = self._read(path)
        if body is None:
            return httpx.Response(404)
        if self.tamper is not None:
            body = self.tamper(path, body)
        etag = '"' + hashlib.md5(body).hexdigest() + '"'
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(200, content=body, headers={"ETag": etag, "Content-Type": "application/json"})

    def _read(self, path: str) -> bytes | None:
        from chalicelib.store import delivery as store

        if self._cache is None:
            return store.get_file(path)
        if path not in self._cache:
            self._cache[path] = store.get_file(path)
        return self._cache[path]


class ChaliceApi(httpx.BaseTransport):
    """Requests into the real app through chalice.test.Client (the HTTP surface, in process)."""

    def __init__(self, client) -> None:
        self._client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        reply = getattr(self._client.http, request.method.lower())(
            request.url.path, headers=dict(request.headers), body=request.read()
        )
        return httpx.Response(reply.status_code, content=reply.body, headers=dict(reply.headers))


def decode(raw: bytes) -> dict:
    from chalicelib.domain.manifests import Envelope

    return json.loads(Envelope.parse(raw).payload)
