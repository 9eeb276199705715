"""What is inside an uploaded app file: an Android ``.apk``, an iOS ``.ipa``, a dSYM ``.tgz``.

Each ``inspect_*`` reads a seekable binary file (the upload, spooled to local disk) and either
describes it or raises ``ValidationError("file", ...)`` saying why it is not what it claims to be.
Only the few small members needed are decompressed, each under a size cap, so a zip bomb costs
nothing; nothing is ever extracted to disk.
"""

from __future__ import annotations

import plistlib
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO
from xml.parsers.expat import ExpatError

from chalicelib.domain.errors import ValidationError
from chalicelib.packaging.axml import BinaryXmlError, read_manifest

MAX_MANIFEST_BYTES = 8 * 1024 * 1024
MAX_PLIST_BYTES = 4 * 1024 * 1024
MAX_TAR_MEMBERS = 200_000
# What reading a damaged or hostile zip can raise (shared by every zip reader in packaging/).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)
_ZIP_ERRORS = ZIP_ERRORS


@dataclass(frozen=True)
class ApkInfo:
    package: str | None
    version_name: str | None
    version_code: int | None
    version_name_is_reference: bool


@dataclass(frozen=True)
class IpaInfo:
    app: str  # "Demo.app"
    bundle_id: str | None
    short_version: str | None  # CFBundleShortVersionString, what users see
    build_version: str | None  # CFBundleVersion


@dataclass(frozen=True)
class SymbolsInfo:
    bundles: tuple[str, ...]  # "Demo.app.dSYM", ...


def _zip(file: IO[bytes], what: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(file)
    except _ZIP_ERRORS:
        raise ValidationError("file", f"is not {what}: it is not a zip archive") from None


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, what: str) -> bytes:
    if info.file_size > limit:
        raise ValidationError("file", f"{info.filename} is larger than {limit} bytes; {what} is damaged")
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except _ZIP_ERRORS as exc:
        raise ValidationError("file", f"{info.filename} cannot be read ({exc}); {what} is damaged") from None
    if len(data) > limit:
        raise ValidationError("file", f"{info.filename} is larger than {limit} bytes; {what} is damaged")
    return data


def inspect_apk(file: IO[bytes]) -> ApkInfo:
    """The package name and versions an APK's compiled ``AndroidManifest.xml`` declares.

    Raises:
        ValidationError: ``file``: not a zip, no ``AndroidManifest.xml``, or one that is not binary XML.
    """
    archive = _zip(file, "an APK")
    try:
        info = archive.getinfo("AndroidManifest.xml")
    except KeyError:
        raise ValidationError("file", "is not an APK: it has no AndroidManifest.xml") from None
    data = _member(archive, info, MAX_MANIFEST_BYTES, "the APK")
    try:
        manifest = read_manifest(data)
    except BinaryXmlError as exc:
        raise ValidationError("file", f"is not a built APK: AndroidManifest.xml: {exc}") from None
    return ApkInfo(
        package=manifest.package,
        version_name=manifest.version_name,
        version_code=manifest.version_code,
        version_name_is_reference=manifest.version_name_is_reference,
    )


_APP_DIR = re.compile(r"^Payload/([^/]+\.app)/")


def inspect_ipa(file: IO[bytes]) -> IpaInfo:
    """The app bundle inside an ``.ipa`` and what its ``Info.plist`` says.

    Raises:
        ValidationError: ``file``: not a zip, no ``Payload/<name>.app``, or an unreadable Info.plist.
    """
    archive = _zip(file, "an iOS app (.ipa)")
    apps = sorted({m.group(1) for name in archive.namelist() if (m := _APP_DIR.match(name))})
    if not apps:
        raise ValidationError("file", "is not an iOS app (.ipa): it has no Payload/<name>.app folder")
    app = apps[0]
    try:
        info = archive.getinfo(f"Payload/{app}/Info.plist")
    except KeyError:
        raise ValidationError("file", f"is not an iOS app (.ipa): Payload/{app} has no Info.plist") from None
    data = _member(archive, info, MAX_PLIST_BYTES, "the .ipa")
    try:
        plist = plistlib.loads(data)
    except (plistlib.InvalidFileException, ExpatError, ValueError, TypeError, OverflowError) as exc:
        raise ValidationError("file", f"Payload/{app}/Info.plist is not a property list ({exc})") from None
    if not isinstance(plist, dict):
        raise ValidationError("file", f"Payload/{app}/Info.plist is not a dictionary")

    def text(key: str) -> str | None:
        value = plist.get(key)
        return value.strip() if isinstance(value, str) and value.strip() else None

    return IpaInfo(
        app=app,
        bundle_id=text("CFBundleIdentifier"),
        short_version=text("CFBundleShortVersionString"),
        build_version=text("CFBundleVersion"),
    )


_DWARF = re.compile(r"(?:^|/)([^/]+\.dSYM)/Contents/Resources/DWARF/[^/]+$")


def inspect_symbols(file: IO[bytes]) -> SymbolsInfo:
    """The dSYM bundles in a gzip-compressed tar (``.tgz``); the whole archive is read to check it.

    Raises:
        ValidationError: ``file``: not gzip, not a tar, damaged, or without a ``<name>.dSYM`` bundle
            holding ``Contents/Resources/DWARF/<binary>``.
    """
    if file.read(2) != b"\x1f\x8b":
        raise ValidationError("file", "is not a .tgz: it is not gzip-compressed")
    file.seek(0)
    bundles: set[str] = set()
    try:
        with tarfile.open(fileobj=file, mode="r|gz") as archive:
            for count, member in enumerate(archive, start=1):
                if count > MAX_TAR_MEMBERS:
                    raise ValidationError("file", f"holds more than {MAX_TAR_MEMBERS} entries")
                match = _DWARF.search(member.name.rstrip("/"))
                if match and member.isfile():
                    bundles.add(match.group(1))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ValidationError("file", f"is not a readable gzip tar archive ({exc})") from None
    if not bundles:
        raise ValidationError(
            "file", "holds no .dSYM bundle (expected <name>.dSYM/Contents/Resources/DWARF/<binary>)"
        )
    return SymbolsInfo(bundles=tuple(sorted(bundles)))
