"""Public download links of release packages: verification codes, rate limits, short-lived redirects.

Two links per file package (docs/upgrade.md, "Downloads"):

- the **QR link** ``{api}/download/{appId}/{workspaceId}/{packageId}``: what the QR code encodes and
  people share. If the package has a verification code, it asks for it first (``?code=…``); wrong
  codes are counted per package and per source IP in 15-minute windows, and past the limit every
  attempt — right or wrong — is refused with 429 until the window ends.
- the **in-app link**: the same URL with ``?key=<download key>``, a random secret of the package that
  only client answers (manifests, the check API) carry. It skips the code: an app upgrading itself
  cannot type one.

Both end in a redirect: an APK to a presigned S3 GET of the exact stored version (5 minutes); an
Enterprise ``.ipa`` to ``itms-services://`` with a manifest plist whose URLs carry a signed token
valid for an hour; App Store / TestFlight packages to their store link.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

from chalicelib.config import settings
from chalicelib.domain.errors import AuthenticationError, Forbidden, NotFound, present
from chalicelib.domain.rate_limits import RateLimit
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.upgrade import Distribution, UpgradePackage

_TRY_LATER = "too many wrong verification codes; try again later"
WRONG_CODES_PER_PACKAGE = RateLimit("dl-code-fail#pkg", 20, 15 * 60, _TRY_LATER)
WRONG_CODES_PER_IP = RateLimit("dl-code-fail#ip", 10, 15 * 60, _TRY_LATER)
FILE_LINK_SECONDS = 300  # presigned S3 GET
TOKEN_SECONDS = 3600  # itms-services manifest and the .ipa it points to
ASSETS = ("manifest.plist", "app.ipa", "icon.png")


class VerificationRequired(AuthenticationError):
    """The link needs the package's verification code."""

    CODE = "VerificationRequired"


class WrongVerificationCode(Forbidden):
    CODE = "WrongVerificationCode"


@dataclass(frozen=True)
class Redirect:
    location: str


# --- links ---------------------------------------------------------------------------------------


def qr_link(tenant: TenantId, package_id: str) -> str:
    """What the QR code encodes; asks for the verification code if the package has one."""
    return (
        f"{settings().api_base_url}/download/{quote(tenant.app_id)}/{quote(tenant.workspace_id)}/{package_id}"
    )


def in_app_link(tenant: TenantId, package: UpgradePackage) -> str:
    """The ``downloadURL`` clients are told: the store link, or the QR link with the download key."""
    if package.distribution.has_store_url:
        return package.store_url or ""
    return f"{qr_link(tenant, package.id)}?{urlencode({'key': package.download_key})}"


def code_digest(tenant: TenantId, package_id: str, code: str) -> str:
    """The keyed digest a verification code is stored as (never the code itself)."""
    message = f"{tenant.key}/{package_id}/{code}".encode()
    return hmac.new(_key("download-code"), message, hashlib.sha256).hexdigest()


# --- the public endpoints ---------------------------------------------------------------------------


def open_link(
    tenant: TenantId,
    package_id: str,
    *,
    code: str | None,
    key: str | None,
    source_ip: str | None,
    now: datetime | None = None,
) -> Redirect:
    """Where the link of ``package_id`` sends this caller.

    Raises:
        NotFound: no such package, or it has no downloadable file yet.
        VerificationRequired: the package has a code and none (nor the download key) was given.
        RateLimited: too many wrong codes for this package or from this address.
        WrongVerificationCode: the code is wrong.
    """
    from chalicelib.store import upgrade_packages

    now = now or datetime.now(UTC)
    package = upgrade_packages.get(tenant, package_id)
    if package.distribution.has_store_url:
        return Redirect(package.store_url or "")
    if package.file is None:
        raise NotFound(f"package {package_id} has no downloadable file")
    has_key = bool(key and hmac.compare_digest(key.encode(), package.download_key.encode()))
    if package.code_digest is not None and not has_key:
        _check_code(tenant, package, code, source_ip, now)
    if package.distribution is Distribution.ENTERPRISE:
        token = _token(tenant, package.id, now)
        manifest = f"{qr_link(tenant, package.id)}/manifest.plist?{urlencode({'t': token})}"
        return Redirect("itms-services://?" + urlencode({"action": "download-manifest", "url": manifest}))
    return Redirect(_file_url(package))


def open_asset(tenant: TenantId, package_id: str, asset: str, *, token: str | None) -> Redirect | str:
    """``manifest.plist`` (its XML text), or a redirect to ``app.ipa`` / ``icon.png``, for a valid token.

    Raises:
        NotFound: unknown package or asset, or not an Enterprise package with a file.
        AuthenticationError: missing, forged or expired token.
    """
    from chalicelib.security import tokens
    from chalicelib.store import upgrade_files, upgrade_packages

    if asset not in ASSETS:
        raise NotFound(f"no {asset} here")
    package = upgrade_packages.get(tenant, package_id)
    if package.distribution is not Distribution.ENTERPRISE or package.file is None:
        raise NotFound(f"package {package_id} has no {asset}")
    if not token:
        raise AuthenticationError("this link needs its token (t); open the package's download link again")
    now = int(datetime.now(UTC).timestamp())
    claims = tokens.verify(token, key=_key("download-token"), now=now)
    if claims.subject != _subject(tenant, package_id):
        raise AuthenticationError("this token is for another package")
    if asset == "manifest.plist":
        return _manifest_plist(tenant, package, token)
    if asset == "icon.png":
        if package.icon is None:
            raise NotFound(f"package {package_id} has no icon")
        return Redirect(upgrade_files.download_url(package.icon, expires_in=FILE_LINK_SECONDS))
    return Redirect(_file_url(package))


# --- helpers ---------------------------------------------------------------------------------------------


def _key(purpose: str) -> bytes:
    from chalicelib.security.secretbox import SecretBox
    from chalicelib.store.keyring import master_key

    return SecretBox(master_key()).derive(purpose)


def _subject(tenant: TenantId, package_id: str) -> str:
    return f"upgrade-download:{tenant.key}/{package_id}"


def _token(tenant: TenantId, package_id: str, now: datetime) -> str:
    from chalicelib.security import tokens

    token, _claims = tokens.issue(
        _subject(tenant, package_id),
        key=_key("download-token"),
        now=int(now.timestamp()),
        ttl_seconds=TOKEN_SECONDS,
    )
    return token


def _file_url(package: UpgradePackage) -> str:
    from chalicelib.store import upgrade_files

    content_type = (
        "application/vnd.android.package-archive"
        if package.distribution is Distribution.APK
        else "application/octet-stream"
    )
    file = present(package.file, "the file of a file package")
    return upgrade_files.download_url(file, expires_in=FILE_LINK_SECONDS, content_type=content_type)


def _check_code(
    tenant: TenantId, package: UpgradePackage, code: str | None, source_ip: str | None, now: datetime
) -> None:
    from chalicelib.services import rate_limits

    if not code:
        raise VerificationRequired("this download needs its verification code", field="code")
    limits = [(WRONG_CODES_PER_PACKAGE, f"{tenant.key}#{package.id}")]
    if source_ip:
        limits.append((WRONG_CODES_PER_IP, source_ip))
    for limit, subject in limits:
        rate_limits.refuse_if_full(limit, subject, now=now.timestamp())
    given = code_digest(tenant, package.id, code.strip())
    if not hmac.compare_digest(given, package.code_digest or ""):
        for limit, subject in limits:
            rate_limits.record(limit, subject, now=now.timestamp())
        raise WrongVerificationCode("wrong verification code", field="code")


def _manifest_plist(tenant: TenantId, package: UpgradePackage, token: str) -> str:
    """The itms-services manifest iOS reads to install an Enterprise build."""
    base = qr_link(tenant, package.id)
    query = urlencode({"t": token})
    assets = [
        f"<dict><key>kind</key><string>software-package</string><key>url</key><string>{escape(f'{base}/app.ipa?{query}')}</string></dict>"
    ]
    if package.icon is not None:
        for kind in ("display-image", "full-size-image"):
            assets.append(
                f"<dict><key>kind</key><string>{kind}</string>"
                f"<key>url</key><string>{escape(f'{base}/icon.png?{query}')}</string></dict>"
            )
    bundle_id = package.bundle_id or (package.detected or {}).get("bundleId") or ""
    title = (package.detected or {}).get("app", "").removesuffix(".app") or "App"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
        '<plist version="1.0"><dict><key>items</key><array><dict>'
        f"<key>assets</key><array>{''.join(assets)}</array>"
        "<key>metadata</key><dict>"
        f"<key>bundle-identifier</key><string>{escape(bundle_id)}</string>"
        f"<key>bundle-version</key><string>{escape(package.version.text)}</string>"
        "<key>kind</key><string>software</string>"
        f"<key>title</key><string>{escape(title)}</string>"
        "</dict></dict></array></dict></plist>\n"
    )
