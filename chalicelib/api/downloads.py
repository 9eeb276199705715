"""Public download links of release packages (what QR codes encode and client answers carry).

No credentials: a link is guarded by the package's verification code (asked for with a small HTML
form, since a person scanning a QR code is in a browser) or by the download key in client answers.
Every answer is a redirect or that form; see services/downloads.py.
"""

from __future__ import annotations

from html import escape
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import ApiRequest, endpoint

downloads = Blueprint(__name__)

LINK = "/download/{appId}/{workspaceId}/{packageId}"

_FORM = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Download</title></head>
<body style="font-family: sans-serif; max-width: 24em; margin: 3em auto">
<h1 style="font-size: 1.3em">Verification code</h1>
<p>{message}</p>
<form method="get"><input name="code" autocomplete="one-time-code" autofocus required
 style="font-size: 1.2em; width: 10em"> <button type="submit">Download</button></form>
</body></html>
"""


def _redirect(location: str) -> Response:
    return Response(body="", status_code=302, headers={"Location": location, "Cache-Control": "no-store"})


def _form(status: int, message: str) -> Response:
    return Response(
        body=_FORM.format(message=escape(message)),
        status_code=status,
        headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
    )


@endpoint(downloads, LINK, methods=["GET"], public=True)
def open_link(request: ApiRequest, packageId: str) -> Any:
    from chalicelib.services import downloads as service

    try:
        target = service.open_link(
            request.tenant,
            packageId,
            code=request.query.get("code"),
            key=request.query.get("key"),
            source_ip=request.source_ip,
        )
    except service.VerificationRequired:
        return _form(401, "Enter the verification code you were given for this download.")
    except service.WrongVerificationCode:
        return _form(403, "That code is not right. Try again.")
    return _redirect(target.location)


@endpoint(downloads, LINK + "/{asset}", methods=["GET"], public=True)
def open_asset(request: ApiRequest, packageId: str, asset: str) -> Any:
    from chalicelib.services import downloads as service

    target = service.open_asset(request.tenant, packageId, asset, token=request.query.get("t"))
    if isinstance(target, str):
        return Response(
            body=target,
            status_code=200,
            headers={"Content-Type": "application/xml; charset=utf-8", "Cache-Control": "no-store"},
        )
    return _redirect(target.location)
