"""Streaming validation of an uploaded H5 offline-package zip (docs/formats.md §1).

``inspect`` reads a *seekable binary file object* (the S3 object spooled to a local temp file) and
either returns a ``ZipReport`` — the members to package, their sizes, CRCs and SHA-256 digests, and
the main entry — or raises ``ValidationError("file", rule)`` naming the offending member. Nothing is
extracted and nothing is held in memory but one chunk at a time: every member is decompressed once,
in ``CHUNK`` pieces, to check its CRC and its *real* expanded size (headers are not trusted), so zip
bombs stop at the first chunk over a limit.

Layouts (the H5 ID is the 8-digit top folder):

- normal: ``<ID>/www/index.html`` plus any other files under ``<ID>/``;
- global: every file under ``<ID>/<domain>/<appId>_<workspaceId>/``.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from chalicelib.domain.errors import ValidationError
from chalicelib.packaging.app_files import ZIP_ERRORS

FIELD = "file"
CHUNK = 1024 * 1024
MiB = 1024 * 1024
GiB = 1024 * MiB

RESOURCE_TYPES = ("normal", "global")
NORMAL_MAIN_ENTRY = "www/index.html"
# RFC 3986 unreserved characters plus '/': exactly what urlencode() leaves alone.
_SAFE_PATH = re.compile(r"^[A-Za-z0-9\-_.~/]+$")
_UNSAFE_CHAR = re.compile(r"[^A-Za-z0-9\-_.~/]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_SUPPORTED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_METHOD_NAMES = {
    1: "shrink",
    6: "implode",
    9: "deflate64",
    12: "bzip2",
    14: "lzma",
    93: "zstandard",
    99: "AES",
}
# Junk that zip tools on macOS add; ignored (never packaged) after the safety checks.
_IGNORED_PREFIXES = ("__MACOSX/",)
_IGNORED_NAMES = (".DS_Store",)
_S_IFMT = 0o170000
_S_IFREG = 0o100000
_S_IFDIR = 0o040000
_S_IFLNK = 0o120000
_ZIP_ERRORS = ZIP_ERRORS


@dataclass(frozen=True)
class Limits:
    """What one package may expand to. The defaults suit mPaaS-sized front-ends."""

    max_total_bytes: int = 1 * GiB  # sum of the real expanded sizes of all members
    max_members: int = 10_000  # entries in the central directory, folders included
    max_ratio: int = 200  # expanded:compressed, checked for members over ratio_floor
    ratio_floor: int = 1 * MiB
    max_path_length: int = 100  # resource path below the top folder, e.g. "www/js/app.js"
    max_directory_bytes: int = 16 * MiB  # the central directory zipfile reads into memory


@dataclass(frozen=True)
class ZipMember:
    name: str  # name in the archive, "12345678/www/index.html"
    path: str  # package path below the top folder, "www/index.html"
    size: int  # real expanded size (bytes)
    crc: int  # CRC-32, as checked while streaming
    sha256: str  # hex digest of the expanded bytes
    compress_size: int
    offset: int = 0  # where its compressed bytes start in the archive
    method: int = zipfile.ZIP_DEFLATED  # zipfile.ZIP_STORED or ZIP_DEFLATED


@dataclass(frozen=True)
class ZipReport:
    h5_id: str
    resource_type: str  # "normal" | "global"
    members: tuple[ZipMember, ...]  # the files to package, in archive order
    main_entry: str | None  # "/www/index.html" for normal packages; None for global ones
    total_size: int  # sum of member sizes
    resource_prefix: str = ""  # global: "<domain>/<appId>_<workspaceId>/"; normal: ""
    ignored: tuple[str, ...] = ()  # junk members left out (__MACOSX/, .DS_Store)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(m.path for m in self.members)


def _fail(rule: str) -> ValidationError:
    return ValidationError(FIELD, rule)


def _directory_size(fileobj: IO[bytes]) -> tuple[int | None, int | None]:
    """(entries, central directory bytes) the end record declares, read before zipfile parses the directory.

    Either may be None when the end record cannot be found (zipfile then says it is not a zip).
    """
    try:
        fileobj.seek(0, 2)
        size = fileobj.tell()
        tail = min(size, 22 + 65535 + 20 + 56)
        fileobj.seek(size - tail)
        data = fileobj.read(tail)
    except OSError:
        return None, None
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or len(data) - at < 22:
        return None, None
    count, cd_size = struct.unpack("<HI", data[at + 10 : at + 16])
    if count == 0xFFFF or cd_size == 0xFFFFFFFF:  # ZIP64: the real values are in the ZIP64 end record
        z64 = data.rfind(b"PK\x06\x06", 0, at)
        if z64 >= 0 and len(data) - z64 >= 56:
            count, cd_size = struct.unpack("<QQ", data[z64 + 32 : z64 + 48])
    return count, cd_size


def _open(fileobj: IO[bytes], limits: Limits) -> zipfile.ZipFile:
    try:
        fileobj.seek(0, 2)
        empty = fileobj.tell() == 0
        fileobj.seek(0)
    except (OSError, AttributeError) as exc:
        raise TypeError("inspect() needs a seekable binary file object") from exc
    if empty:
        raise _fail("is empty (0 bytes); upload a .zip of the H5 package")
    count, directory = _directory_size(fileobj)
    if count is not None and count > limits.max_members:
        raise _fail(f"has {count} entries; at most {limits.max_members} are allowed")
    if directory is not None and directory > limits.max_directory_bytes:
        raise _fail(
            f"has a central directory of {directory} bytes; at most {limits.max_directory_bytes} are allowed"
        )
    fileobj.seek(0)
    try:
        archive = zipfile.ZipFile(fileobj)
    except _ZIP_ERRORS:
        raise _fail("is not a zip archive") from None
    if len(archive.infolist()) > limits.max_members:
        raise _fail(f"has {len(archive.infolist())} entries; at most {limits.max_members} are allowed")
    return archive


def _is_ignored(name: str) -> bool:
    return name.startswith(_IGNORED_PREFIXES) or name.rsplit("/", 1)[-1] in _IGNORED_NAMES


def _check_name(info: zipfile.ZipInfo) -> None:
    """Safety checks that apply to every entry, junk included."""
    name = info.filename
    if not name:
        raise _fail("has a member with an empty name")
    if "\\" in name:
        raise _fail(f"member {name!r} uses a backslash; paths must use '/' (path traversal is refused)")
    if name.startswith("/"):
        raise _fail(f"member {name!r} is an absolute path (path traversal is refused)")
    if _DRIVE.match(name):
        raise _fail(f"member {name!r} starts with a drive letter (path traversal is refused)")
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        raise _fail(f"member {name!r} contains '..' (path traversal is refused)")
    if "\x00" in name:
        raise _fail(f"member {name!r} contains a NUL character")
    mode = (info.external_attr >> 16) & 0xFFFF
    kind = mode & _S_IFMT
    if kind == _S_IFLNK:
        raise _fail(f"member {name!r} is a symbolic link; links are refused")
    if info.create_system == 3 and kind not in (0, _S_IFREG, _S_IFDIR):  # 3: unix, where the mode means this
        raise _fail(f"member {name!r} is not a regular file (unix mode {oct(mode)})")
    if info.flag_bits & 0x1:
        raise _fail(f"member {name!r} is encrypted; upload a zip without a password")
    if info.compress_type not in _SUPPORTED_METHODS:
        method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
        raise _fail(f"member {name!r} uses unsupported compression ({method}); use stored or deflate")


def _check_path(name: str, path: str, limits: Limits) -> None:
    parts = path.split("/")
    if any(p in ("", ".") for p in parts):
        raise _fail(f"member {name!r} has an empty or '.' path segment")
    if not _SAFE_PATH.match(path):
        bad = "".join(sorted(set(_UNSAFE_CHAR.findall(path))))
        raise _fail(
            f"member {name!r} has characters that need URL-encoding ({bad!r}); "
            "use only A-Z a-z 0-9 - _ . ~ and /"
        )
    if len(path) > limits.max_path_length:
        raise _fail(
            f"member {name!r}: resource path {path!r} is {len(path)} characters; "
            f"at most {limits.max_path_length} are allowed"
        )


def top_folders(fileobj: IO[bytes]) -> tuple[str, ...]:
    """The distinct top-level folders (and top-level file names) in a zip, sorted; junk ignored.

    Raises:
        ValidationError: ``file``: not a zip, or more entries than ``Limits()`` allows.
    """
    archive = _open(fileobj, Limits())
    with archive:
        tops = {i.filename.split("/", 1)[0] for i in archive.infolist() if not _is_ignored(i.filename)}
    return tuple(sorted(t for t in tops if t))


def detect_h5_id(fileobj: IO[bytes]) -> str:
    """The H5 ID a package zip is for: its single 8-digit top folder.

    Raises:
        ValidationError: ``file``: not a zip, empty, several top folders, or a top folder not of 8 digits.
    """
    tops = top_folders(fileobj)
    if not tops:
        raise _fail("has no files; its top folder must be the 8-digit H5 ID")
    if len(tops) > 1:
        raise _fail(f"has several top folders ({', '.join(tops[:5])}); it must have one, the H5 ID")
    top = tops[0]
    if not re.fullmatch(r"\d{8}", top):
        raise _fail(f"top folder {top!r} is not an 8-digit H5 ID")
    return top


def inspect(
    fileobj: IO[bytes],
    *,
    h5_id: str,
    resource_type: str,
    tenant_app_id: str,
    workspace_id: str,
    limits: Limits = Limits(),
) -> ZipReport:
    """Check an H5 package zip and list what to package.

    Args:
        fileobj: seekable binary file holding the upload.
        h5_id: the H5 app the package is for; must be the top folder.
        resource_type: ``"normal"`` or ``"global"``.
        tenant_app_id, workspace_id: global packages live under ``<domain>/<appId>_<workspaceId>/``.

    Raises:
        ValidationError: ``file``: the first rule the zip breaks, naming the member.
    """
    if resource_type not in RESOURCE_TYPES:
        raise ValidationError("resourceType", f"must be one of {', '.join(RESOURCE_TYPES)}")
    archive = _open(fileobj, limits)
    with archive:
        infos = archive.infolist()
        for info in infos:
            _check_name(info)
        wanted: list[tuple[zipfile.ZipInfo, str]] = []
        ignored: list[str] = []
        seen: dict[str, str] = {}
        dirs: set[str] = set()
        tops: set[str] = set()
        for info in infos:
            name = info.filename
            if _is_ignored(name):
                ignored.append(name)
                continue
            top, _, rest = name.partition("/")
            tops.add(top)
            if top != h5_id:
                continue  # reported below, with every top folder found
            if not rest and not info.is_dir():
                raise _fail(f"member {name!r} is a file where the top folder {h5_id}/ must be")
            if info.is_dir() or not rest:
                if rest:
                    dirs.add(rest.rstrip("/").lower())
                continue
            _check_path(name, rest, limits)
            key = rest.lower()
            if key in seen:
                other = seen[key]
                how = "twice" if other == rest else f"twice when case is ignored ({other!r})"
                raise _fail(f"member {name!r} appears {how}; names must be unique")
            seen[key] = rest
            wanted.append((info, rest))
        if tops != {h5_id}:
            found = sorted(t for t in tops if t)
            if not found:
                raise _fail(f"has no files; its top folder must be the H5 ID {h5_id}")
            if h5_id not in tops:
                raise _fail(f"top folder is {', '.join(found[:5])}; it must be the H5 ID {h5_id}")
            others = [t for t in found if t != h5_id]
            raise _fail(f"has files outside the top folder {h5_id} ({', '.join(others[:5])})")
        if not wanted:
            raise _fail(f"has no files under the top folder {h5_id}")
        _check_file_folder_clash(wanted, dirs, h5_id)
        prefix, main_entry = _check_layout(wanted, h5_id, resource_type, tenant_app_id, workspace_id)

        members: list[ZipMember] = []
        total = 0
        for info, path in wanted:
            member = _stream(fileobj, info, path, total, limits)
            total += member.size
            members.append(member)
    return ZipReport(
        h5_id=h5_id,
        resource_type=resource_type,
        members=tuple(members),
        main_entry=main_entry,
        total_size=total,
        resource_prefix=prefix,
        ignored=tuple(ignored),
    )


def _check_file_folder_clash(wanted: list[tuple[zipfile.ZipInfo, str]], dirs: set[str], h5_id: str) -> None:
    folders = set(dirs)
    for _, path in wanted:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folders.add("/".join(parts[:i]).lower())
    for info, path in wanted:
        if path.lower() in folders:
            raise _fail(f"member {info.filename!r} is both a file and a folder")


def _check_layout(
    wanted: list[tuple[zipfile.ZipInfo, str]],
    h5_id: str,
    resource_type: str,
    tenant_app_id: str,
    workspace_id: str,
) -> tuple[str, str | None]:
    if resource_type == "normal":
        if not any(path == NORMAL_MAIN_ENTRY for _, path in wanted):
            raise _fail(f"normal package has no {h5_id}/{NORMAL_MAIN_ENTRY}; it is the main entry")
        return "", "/" + NORMAL_MAIN_ENTRY
    owner = f"{tenant_app_id}_{workspace_id}"
    domains: set[str] = set()
    for info, path in wanted:
        parts = path.split("/")
        if len(parts) < 3:
            raise _fail(
                f"member {info.filename!r} is not under {h5_id}/<domain>/{owner}/; "
                "a global package holds only files under that folder"
            )
        domain, folder = parts[0], parts[1]
        if not _DOMAIN.match(domain) or "." not in domain:
            raise _fail(f"member {info.filename!r}: second-level folder {domain!r} is not a domain name")
        if folder != owner:
            raise _fail(f"member {info.filename!r}: third-level folder is {folder!r}; it must be {owner!r}")
        domains.add(domain)
    if len(domains) > 1:
        raise _fail(f"global package has several domain folders ({', '.join(sorted(domains))}); use one")
    return f"{domains.pop()}/{owner}/", None


def _data_offset(fileobj: IO[bytes], info: zipfile.ZipInfo) -> int:
    """Where a member's compressed bytes start, from its local header (checked against the directory)."""
    fileobj.seek(info.header_offset)
    header = fileobj.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise _fail(f"member {info.filename!r} is corrupt (bad local header)")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    raw_name = fileobj.read(name_len)
    if raw_name != info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace"):
        raise _fail(f"member {info.filename!r} is corrupt (local header names {raw_name[:60]!r})")
    return info.header_offset + 30 + name_len + extra_len


def iter_member(
    fileobj: IO[bytes], *, offset: int, method: int, compress_size: int, size: int, name: str
) -> Iterator[bytes]:
    """The expanded bytes of one member, ``CHUNK`` at a time, reading only its own compressed bytes.

    Trusts nothing: a stream that expands beyond ``size``, ends early, or does not end where the
    directory says it does is refused as corrupt.
    """
    fileobj.seek(offset)
    left = compress_size
    produced = 0
    if method == zipfile.ZIP_STORED:
        if compress_size != size:
            raise _fail(f"member {name!r} is corrupt (stored size {compress_size} != {size})")
        while left:
            chunk = fileobj.read(min(CHUNK, left))
            if not chunk:
                raise _fail(f"member {name!r} is corrupt (archive is truncated)")
            left -= len(chunk)
            yield chunk
        return
    inflate = zlib.decompressobj(-15)
    try:
        while left or inflate.unconsumed_tail:
            if inflate.unconsumed_tail:
                data = inflate.unconsumed_tail
            else:
                data = fileobj.read(min(CHUNK, left))
                if not data:
                    raise _fail(f"member {name!r} is corrupt (archive is truncated)")
                left -= len(data)
            out = inflate.decompress(data, CHUNK)
            if out:
                produced += len(out)
                if produced > size:
                    raise _fail(
                        f"member {name!r} is corrupt (expands to more than the {size} bytes its header says)"
                    )
                yield out
            if inflate.eof:
                break
        tail = inflate.flush()
        if tail:
            produced += len(tail)
            if produced > size:
                raise _fail(
                    f"member {name!r} is corrupt (expands to more than the {size} bytes its header says)"
                )
            yield tail
    except zlib.error as exc:
        raise _fail(f"member {name!r} is corrupt ({exc})") from None
    if not inflate.eof:
        raise _fail(f"member {name!r} is corrupt (deflate stream does not end)")


def _stream(fileobj: IO[bytes], info: zipfile.ZipInfo, path: str, total: int, limits: Limits) -> ZipMember:
    name = info.filename
    if total + info.file_size > limits.max_total_bytes:
        raise _fail(f"expands to more than {limits.max_total_bytes} bytes (at member {name!r})")
    offset = _data_offset(fileobj, info)
    digest = hashlib.sha256()
    crc = 0
    size = 0
    compressed = max(info.compress_size, 1)
    chunks = iter_member(
        fileobj,
        offset=offset,
        method=info.compress_type,
        compress_size=info.compress_size,
        size=info.file_size,
        name=name,
    )
    for chunk in chunks:
        size += len(chunk)
        if total + size > limits.max_total_bytes:
            raise _fail(f"expands to more than {limits.max_total_bytes} bytes (at member {name!r})")
        if size > limits.ratio_floor and size > compressed * limits.max_ratio:
            raise _fail(
                f"member {name!r} expands more than {limits.max_ratio}:1 "
                f"({compressed} compressed bytes); it looks like a zip bomb"
            )
        digest.update(chunk)
        crc = zlib.crc32(chunk, crc)
    if size != info.file_size:
        raise _fail(f"member {name!r} is corrupt (expands to {size} bytes, header says {info.file_size})")
    if crc != info.CRC:
        raise _fail(f"member {name!r} is corrupt (CRC-32 mismatch)")
    return ZipMember(
        name=name,
        path=path,
        size=size,
        crc=crc,
        sha256=digest.hexdigest(),
        compress_size=info.compress_size,
        offset=offset,
        method=info.compress_type,
    )
