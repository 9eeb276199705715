"""The signed ``.amr`` H5 offline package and its ``h5.json`` descriptor (docs/formats.md §2–§4).

An ``.amr`` is an uncompressed POSIX ustar archive:

    CERT.json           canonical JSON manifest: format, h5Id, version, ..., files [{path, size, sha256}]
    CERT.json.sig       RSASSA-PKCS1-v1_5 / SHA-256 signature of the exact CERT.json bytes (raw, 256+ bytes)
    <h5Id>/<path> ...   the package files, in manifest order

so a device can check the signature with only the app's public key before it reads a single file,
then check each file against the manifest while streaming. ``build`` streams from the zip to the
output; ``verify``/``extract_verified`` stream from the ``.amr``; nothing is held whole in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from chalicelib.domain.errors import ValidationError, present
from chalicelib.packaging.h5zip import CHUNK, ZipReport, iter_member

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

FORMAT = "mds-amr/1"
DIFF_FORMAT = "mds-amr-diff/1"
DESCRIPTOR_FORMAT = "mds-h5/1"
ALGORITHM = "RSASSA-PKCS1-v1_5-SHA256"
MANIFEST_NAME = "CERT.json"
SIGNATURE_NAME = "CERT.json.sig"
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
MAX_SIGNATURE_BYTES = 2048  # a 16384-bit RSA signature
MAX_FILES = 100_000
BLOCK = 512
FILE_MODE = 0o644
RESERVED_FIELDS = ("format", "h5Id", "resourceType", "algorithm", "keyId", "files", "base", "removed")
_SAFE_PATH = re.compile(r"^[A-Za-z0-9\-_.~]+(?:/[A-Za-z0-9\-_.~]+)*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class AmrError(ValidationError):
    """An ``.amr`` that must not be installed: bad signature, wrong digest, extra/missing file, truncated."""

    def __init__(self, rule: str) -> None:
        super().__init__("package", rule)


@dataclass(frozen=True)
class AmrBuild:
    size: int  # bytes of the .amr
    sha256: str  # hex digest of the .amr bytes
    md5: str  # hex digest of the .amr bytes (mPaaS clients compare MD5)
    file_count: int
    manifest_sha256: str  # hex digest of the signed CERT.json bytes ("the signed file list digest")
    key_id: str  # rsa_keys.key_id of the signing key
    version: str = ""


@dataclass(frozen=True)
class ManifestFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class VerifiedPackage:
    h5_id: str
    version: str
    manifest: Mapping[str, Any]  # the parsed, signature-checked CERT.json
    files: tuple[ManifestFile, ...]
    manifest_sha256: str
    size: int  # bytes read from the .amr
    sha256: str  # hex digest of those bytes
    removed: tuple[str, ...] = field(default=())  # diff packages only
    base_manifest_sha256: str | None = None  # diff packages only

    @property
    def is_diff(self) -> bool:
        return self.manifest.get("format") == DIFF_FORMAT


# ---------------------------------------------------------------------------------------------- writing


def canonical_json(value: Any) -> bytes:
    """The bytes that get signed: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class _HashingWriter:
    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False)

    def write(self, data: bytes | memoryview) -> None:
        self._out.write(data)
        self.sha256.update(data)
        self.md5.update(data)
        self.size += len(data)


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = FILE_MODE
    info.mtime = 0  # deterministic: the same zip and key give the same .amr bytes
    info.type = tarfile.REGTYPE
    info.uname = info.gname = ""
    return info.tobuf(format=tarfile.USTAR_FORMAT, encoding="utf-8", errors="strict")


def _pad(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


def _write_bytes(writer: _HashingWriter, name: str, data: bytes) -> None:
    writer.write(_header(name, len(data)))
    writer.write(data)
    writer.write(_pad(len(data)))


def _manifest_fields(descriptor_fields: Mapping[str, Any]) -> dict[str, Any]:
    fields = dict(descriptor_fields)
    for key in RESERVED_FIELDS:
        if key in fields:
            raise ValueError(f"descriptor_fields may not set {key!r}; build() fills it in")
    version = fields.get("version")
    if not isinstance(version, str) or not version:
        raise ValueError("descriptor_fields needs a 'version' string")
    return fields


def build(
    zip_fileobj: IO[bytes],
    report: ZipReport,
    out_fileobj: IO[bytes],
    *,
    private_key: RSAPrivateKey,
    descriptor_fields: Mapping[str, Any],
) -> AmrBuild:
    """Write the signed ``.amr`` for a zip ``h5zip.inspect`` accepted.

    ``descriptor_fields`` go into CERT.json as they are (camelCase, JSON values); ``version`` is
    required. Files are listed sorted by path.

    Raises:
        AmrError: the zip no longer matches the report (it changed after inspect()).
    """
    from chalicelib.security import rsa_keys

    fields = _manifest_fields(descriptor_fields)
    members = sorted(report.members, key=lambda m: m.path)
    kid = rsa_keys.key_id(private_key)
    manifest = {
        **fields,
        "format": FORMAT,
        "h5Id": report.h5_id,
        "resourceType": report.resource_type,
        "algorithm": ALGORITHM,
        "keyId": kid,
        "files": [{"path": m.path, "size": m.size, "sha256": m.sha256} for m in members],
    }
    manifest_bytes = canonical_json(manifest)
    signature = rsa_keys.sign(private_key, manifest_bytes)

    writer = _HashingWriter(out_fileobj)
    _write_bytes(writer, MANIFEST_NAME, manifest_bytes)
    _write_bytes(writer, SIGNATURE_NAME, signature)
    for member in members:
        writer.write(_header(f"{report.h5_id}/{member.path}", member.size))
        digest = hashlib.sha256()
        size = 0
        try:
            for chunk in iter_member(
                zip_fileobj,
                offset=member.offset,
                method=member.method,
                compress_size=member.compress_size,
                size=member.size,
                name=member.name,
            ):
                size += len(chunk)
                digest.update(chunk)
                writer.write(chunk)
        except ValidationError as exc:
            raise AmrError(
                f"zip member {member.name!r} changed after it was inspected ({exc.rule})"
            ) from None
        if size != member.size or digest.hexdigest() != member.sha256:
            raise AmrError(f"zip member {member.name!r} changed after it was inspected")
        writer.write(_pad(size))
    writer.write(b"\0" * (2 * BLOCK))
    return AmrBuild(
        size=writer.size,
        sha256=writer.sha256.hexdigest(),
        md5=writer.md5.hexdigest(),
        file_count=len(members),
        manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
        key_id=kid,
        version=fields["version"],
    )


# ---------------------------------------------------------------------------------------------- reading


class _HashingReader:
    def __init__(self, src: IO[bytes]) -> None:
        self._src = src
        self.size = 0
        self.sha256 = hashlib.sha256()

    def read_exact(self, n: int, what: str) -> bytes:
        data = self._src.read(n)
        while len(data) < n:
            more = self._src.read(n - len(data))
            if not more:
                raise AmrError(f"is truncated (inside {what})")
            data += more
        self.sha256.update(data)
        self.size += n
        return data

    def read_chunks(self, n: int, what: str) -> Iterator[bytes]:
        left = n
        while left:
            chunk = self._src.read(min(CHUNK, left))
            if not chunk:
                raise AmrError(f"is truncated (inside {what})")
            self.sha256.update(chunk)
            self.size += len(chunk)
            left -= len(chunk)
            yield chunk

    def drain(self) -> bytes:
        """Read (and hash) whatever follows; returns the first non-zero bytes found, or b"" if all zeros."""
        nonzero = b""
        while chunk := self._src.read(CHUNK):
            self.sha256.update(chunk)
            self.size += len(chunk)
            if not nonzero and chunk.strip(b"\0"):
                nonzero = chunk.strip(b"\0")[:16]
        return nonzero


def _next_header(reader: _HashingReader, where: str) -> tarfile.TarInfo | None:
    """The next member header, or None at the end-of-archive marker."""
    raw = reader.read_exact(BLOCK, where)
    if raw == b"\0" * BLOCK:
        return None
    try:
        info = tarfile.TarInfo.frombuf(raw, "utf-8", "strict")
    except (tarfile.HeaderError, UnicodeDecodeError) as exc:
        raise AmrError(f"has a damaged archive header {where} ({exc})") from None
    if info.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        raise AmrError(f"member {info.name!r} is not a regular file (tar type {info.type!r})")
    try:
        canonical = _header(info.name, info.size)
    except (ValueError, UnicodeError):
        canonical = b""
    if raw != canonical:
        # every header build() writes is canonical (mode 0644, mtime 0, ...): a byte changed here
        # would slip past the tar checksum (its own field is not covered), so compare them all
        raise AmrError(f"has a non-canonical archive header for {info.name!r}")
    return info


def _skip_padding(reader: _HashingReader, size: int, name: str) -> None:
    """The zeros that fill a member to a whole block; anything else there was not written by build()."""
    if reader.read_exact(-size % BLOCK, name).strip(b"\0"):
        raise AmrError(f"has non-zero padding after {name}")


def _read_small(reader: _HashingReader, name: str, limit: int) -> bytes:
    info = _next_header(reader, f"before {name}")
    if info is None or info.name != name:
        found = "the end of the archive" if info is None else repr(info.name)
        raise AmrError(
            f"must start with {MANIFEST_NAME} and {SIGNATURE_NAME}; found {found} instead of {name}"
        )
    if info.size > limit:
        raise AmrError(f"{name} is {info.size} bytes; at most {limit} are allowed")
    data = reader.read_exact(info.size, name)
    _skip_padding(reader, info.size, name)
    return data


def _safe_path(path: Any) -> str:
    if not isinstance(path, str) or not _SAFE_PATH.match(path) or ".." in path.split("/"):
        raise AmrError(f"manifest lists an unsafe path {path!r}")
    return path


def _parse_files(value: Any, what: str) -> tuple[ManifestFile, ...]:
    if not isinstance(value, list) or len(value) > MAX_FILES:
        raise AmrError(f"manifest {what} is not a list of at most {MAX_FILES} files")
    files = []
    seen: set[str] = set()
    for entry in value:
        if not isinstance(entry, dict):
            raise AmrError(f"manifest {what} has an entry that is not an object")
        path = _safe_path(entry.get("path"))
        size, digest = entry.get("size"), entry.get("sha256")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise AmrError(f"manifest entry {path!r} has no valid size")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise AmrError(f"manifest entry {path!r} has no valid sha256")
        if path.lower() in seen:
            raise AmrError(f"manifest lists {path!r} twice")
        seen.add(path.lower())
        files.append(ManifestFile(path=path, size=size, sha256=digest))
    folders = {"/".join(parts[:i]) for f in seen for parts in [f.split("/")] for i in range(1, len(parts))}
    clash = sorted(seen & folders)
    if clash:
        raise AmrError(f"manifest lists {clash[0]!r} as both a file and a folder")
    return tuple(files)


_Sink = Callable[[ManifestFile], Any]  # returns an object with write() and close(), or None


@dataclass(frozen=True)
class _Head:
    manifest_bytes: bytes
    manifest: dict[str, Any]
    h5_id: str
    version: str
    files: tuple[ManifestFile, ...]
    removed: tuple[str, ...] = ()
    base_manifest_sha256: str | None = None
    target_files: tuple[ManifestFile, ...] = ()


def _read_head(
    reader: _HashingReader, public_key: RSAPublicKey | str | bytes, formats: tuple[str, ...]
) -> _Head:
    """CERT.json and its signature, checked; the parsed manifest (and for a diff, its target)."""
    from chalicelib.security import rsa_keys

    manifest_bytes = _read_small(reader, MANIFEST_NAME, MAX_MANIFEST_BYTES)
    signature = _read_small(reader, SIGNATURE_NAME, MAX_SIGNATURE_BYTES)
    if not rsa_keys.verify(public_key, manifest_bytes, signature):
        raise AmrError(f"signature of {MANIFEST_NAME} does not match the public key; do not install it")
    try:
        manifest = json.loads(manifest_bytes)
    except (ValueError, UnicodeDecodeError):
        raise AmrError(f"{MANIFEST_NAME} is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") not in formats:
        raise AmrError(f"{MANIFEST_NAME} format is not {' or '.join(formats)}")
    h5_id, version = manifest.get("h5Id"), manifest.get("version")
    if not isinstance(h5_id, str) or not re.fullmatch(r"\d{8}", h5_id) or not isinstance(version, str):
        raise AmrError(f"{MANIFEST_NAME} has no valid h5Id and version")
    files = _parse_files(manifest.get("files"), "files")
    if manifest["format"] != DIFF_FORMAT:
        return _Head(manifest_bytes, manifest, h5_id, version, files)

    base = manifest.get("base")
    target = manifest.get("target")
    removed = manifest.get("removed")
    if not isinstance(base, dict) or not _SHA256.match(str(base.get("manifestSha256", ""))):
        raise AmrError("diff manifest has no valid base")
    if not isinstance(target, dict) or not isinstance(target.get("manifest"), dict):
        raise AmrError("diff manifest has no target manifest")
    full = target["manifest"]
    if full.get("format") != FORMAT or full.get("h5Id") != h5_id or full.get("version") != version:
        raise AmrError("diff target manifest is not the full manifest of the same H5 app and version")
    target_files = _parse_files(full.get("files"), "target files")
    by_path = {f.path: f for f in target_files}
    for shipped in files:
        if by_path.get(shipped.path) != shipped:
            raise AmrError(f"diff ships {shipped.path!r}, which the target manifest does not list as is")
    if not isinstance(removed, list):
        raise AmrError("diff manifest has no removed list")
    removed_paths = tuple(_safe_path(p) for p in removed)
    if any(p in by_path for p in removed_paths):
        raise AmrError("diff removes a path that the target manifest lists")
    return _Head(
        manifest_bytes,
        manifest,
        h5_id,
        version,
        files,
        removed=removed_paths,
        base_manifest_sha256=base["manifestSha256"],
        target_files=target_files,
    )


def _read(
    amr_fileobj: IO[bytes],
    public_key: RSAPublicKey | str | bytes,
    *,
    expected_sha256: str | None,
    formats: tuple[str, ...],
    sink: _Sink | None = None,
    on_head: Callable[[_Head], Any] | None = None,
) -> VerifiedPackage:
    reader = _HashingReader(amr_fileobj)
    head = _read_head(reader, public_key, formats)
    if on_head is not None:
        on_head(head)
    for expected in head.files:
        name = f"{head.h5_id}/{expected.path}"
        info = _next_header(reader, f"before {name}")
        if info is None:
            raise AmrError(f"is missing file {expected.path!r} listed in the manifest")
        if info.name != name:
            raise AmrError(f"has file {info.name!r} where the manifest lists {expected.path!r}")
        if info.size != expected.size:
            raise AmrError(f"file {expected.path!r} is {info.size} bytes; the manifest says {expected.size}")
        out = sink(expected) if sink else None
        file_hash = hashlib.sha256()
        try:
            for chunk in reader.read_chunks(info.size, name):
                file_hash.update(chunk)
                if out is not None:
                    out.write(chunk)
        finally:
            if out is not None:
                out.close()
        if file_hash.hexdigest() != expected.sha256:
            raise AmrError(f"file {expected.path!r} does not match its SHA-256 in the manifest")
        _skip_padding(reader, info.size, name)
    extra = _next_header(reader, "after the last file")
    if extra is not None:
        raise AmrError(f"has file {extra.name!r} that the manifest does not list")
    if reader.drain():
        raise AmrError("has data after the end of the archive")
    digest = reader.sha256.hexdigest()
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise AmrError("SHA-256 of the package does not match the descriptor")
    return VerifiedPackage(
        h5_id=head.h5_id,
        version=head.version,
        manifest=head.manifest,
        files=head.files,
        manifest_sha256=hashlib.sha256(head.manifest_bytes).hexdigest(),
        size=reader.size,
        sha256=digest,
        removed=head.removed,
        base_manifest_sha256=head.base_manifest_sha256,
    )


def verify(
    amr_fileobj: IO[bytes], public_key_pem: RSAPublicKey | str | bytes, *, expected_sha256: str | None = None
) -> VerifiedPackage:
    """Check a full ``.amr`` in one streaming pass: signature, then every file against the manifest.

    Raises:
        AmrError: bad signature, a file digest or size mismatch, an extra or missing file, truncation,
            or (with ``expected_sha256``) a package whose bytes are not the ones the descriptor names.
    """
    return _read(amr_fileobj, public_key_pem, expected_sha256=expected_sha256, formats=(FORMAT,))


class _StagedFile:
    def __init__(self, root: Path, path: str) -> None:
        target = root.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        flags = (
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        )
        self._file = os.fdopen(os.open(target, flags, 0o644), "wb")

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def close(self) -> None:
        self._file.close()


def _prepare_dest(dest_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    dest = Path(dest_dir)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ValueError(f"{dest} must be an empty folder or not exist")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".amr-", dir=dest.parent))
    return dest, staging


def _publish(staging: Path, dest: Path) -> None:
    if dest.exists():
        dest.rmdir()
    os.replace(staging, dest)


def extract_verified(
    amr_fileobj: IO[bytes],
    public_key_pem: RSAPublicKey | str | bytes,
    dest_dir: str | os.PathLike[str],
    *,
    expected_sha256: str | None = None,
) -> VerifiedPackage:
    """Verify a full ``.amr`` and install its files as ``dest_dir/<path>``.

    Files are written to a staging folder beside ``dest_dir`` and moved into place only after the
    whole package verified; on any error nothing is left behind. ``dest_dir`` must be empty or absent.

    Raises:
        AmrError: as ``verify``.
    """
    dest, staging = _prepare_dest(dest_dir)
    try:
        package = _read(
            amr_fileobj,
            public_key_pem,
            expected_sha256=expected_sha256,
            formats=(FORMAT,),
            sink=lambda f: _StagedFile(staging, f.path),
        )
        _publish(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return package


# ---------------------------------------------------------------------------------------------- diffs


class _TarEntry:
    """A sink that copies one verified file into the diff being written."""

    def __init__(self, writer: _HashingWriter, name: str, size: int) -> None:
        self._writer = writer
        self._size = size
        writer.write(_header(name, size))

    def write(self, data: bytes) -> None:
        self._writer.write(data)

    def close(self) -> None:
        self._writer.write(_pad(self._size))


def read_head(amr_fileobj: IO[bytes], public_key: RSAPublicKey | str | bytes) -> VerifiedPackage:
    """Only the signed manifest of a full ``.amr``; files are not read (``size``, ``sha256``: the head)."""
    reader = _HashingReader(amr_fileobj)
    head = _read_head(reader, public_key, (FORMAT,))
    return VerifiedPackage(
        h5_id=head.h5_id,
        version=head.version,
        manifest=head.manifest,
        files=head.files,
        manifest_sha256=hashlib.sha256(head.manifest_bytes).hexdigest(),
        size=reader.size,
        sha256=reader.sha256.hexdigest(),
    )


def build_diff(
    old_amr: IO[bytes], new_amr: IO[bytes], out_fileobj: IO[bytes], *, private_key: RSAPrivateKey
) -> AmrBuild:
    """A signed diff package from ``old_amr`` to ``new_amr`` (both full packages signed by ``private_key``).

    It ships only added and changed files, lists removed paths, names the base manifest and carries the
    full target manifest (docs/formats.md §4). The new package is verified while it is copied.

    Raises:
        AmrError: either package fails verification, or they are different H5 apps.
    """
    from chalicelib.security import rsa_keys

    public = private_key.public_key()
    kid = rsa_keys.key_id(public)
    old = read_head(old_amr, public)
    writer = _HashingWriter(out_fileobj)
    state: dict[str, Any] = {}

    def on_head(head: _Head) -> None:
        if head.h5_id != old.h5_id:
            raise AmrError(f"diff between different H5 apps ({old.h5_id} and {head.h5_id})")
        before = {f.path: f for f in old.files}
        changed = [f for f in head.files if before.get(f.path) != f]
        current = {f.path for f in head.files}
        extra = {k: v for k, v in head.manifest.items() if k not in RESERVED_FIELDS}
        manifest = {
            **extra,
            "format": DIFF_FORMAT,
            "h5Id": head.h5_id,
            "resourceType": head.manifest.get("resourceType"),
            "algorithm": ALGORITHM,
            "keyId": kid,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in changed],
            "removed": sorted(p for p in before if p not in current),
            "base": {"version": old.version, "manifestSha256": old.manifest_sha256},
            "target": {
                "manifestSha256": hashlib.sha256(head.manifest_bytes).hexdigest(),
                "files": len(head.files),
                "manifest": head.manifest,
            },
        }
        body = canonical_json(manifest)
        _write_bytes(writer, MANIFEST_NAME, body)
        _write_bytes(writer, SIGNATURE_NAME, rsa_keys.sign(private_key, body))
        state.update(h5_id=head.h5_id, version=head.version, body=body, changed={f.path for f in changed})

    def sink(file: ManifestFile) -> _TarEntry | None:
        if file.path not in state["changed"]:
            return None
        return _TarEntry(writer, f"{state['h5_id']}/{file.path}", file.size)

    _read(new_amr, public, expected_sha256=None, formats=(FORMAT,), sink=sink, on_head=on_head)
    writer.write(b"\0" * (2 * BLOCK))
    return AmrBuild(
        size=writer.size,
        sha256=writer.sha256.hexdigest(),
        md5=writer.md5.hexdigest(),
        file_count=len(state["changed"]),
        manifest_sha256=hashlib.sha256(state["body"]).hexdigest(),
        key_id=kid,
        version=state["version"],
    )


def _open_installed(root: Path, path: str) -> IO[bytes]:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        return os.fdopen(os.open(root.joinpath(*path.split("/")), flags), "rb")
    except OSError:
        raise AmrError(f"installed file {path!r} is missing; install the full package") from None


def apply_diff(
    installed_dir: str | os.PathLike[str],
    diff_fileobj: IO[bytes],
    public_key_pem: RSAPublicKey | str | bytes,
    dest_dir: str | os.PathLike[str],
    *,
    expected_sha256: str | None = None,
) -> VerifiedPackage:
    """Install a diff on top of ``installed_dir`` into ``dest_dir`` (empty or absent).

    The diff's signature and shipped files are verified as in ``verify``; every file kept from
    ``installed_dir`` is re-hashed; the result must equal the target manifest file by file before it is
    moved into place. ``installed_dir`` is never modified. On any error nothing is left behind.

    Raises:
        AmrError: a bad diff, or an installed version that is not the diff's base (install the full package).
    """
    installed = Path(installed_dir)
    dest, staging = _prepare_dest(dest_dir)
    try:
        heads: list[_Head] = []
        package = _read(
            diff_fileobj,
            public_key_pem,
            expected_sha256=expected_sha256,
            formats=(DIFF_FORMAT,),
            sink=lambda f: _StagedFile(staging, f.path),
            on_head=heads.append,
        )
        head = heads[0]
        shipped = {f.path for f in head.files}
        for file in head.target_files:
            if file.path in shipped:
                continue
            digest = hashlib.sha256()
            out = _StagedFile(staging, file.path)
            try:
                with _open_installed(installed, file.path) as src:
                    while chunk := src.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            finally:
                out.close()
            if digest.hexdigest() != file.sha256:
                raise AmrError(
                    f"installed file {file.path!r} is not the one of base version "
                    f"{head.manifest['base'].get('version')}; install the full package"
                )
        _check_tree(staging, head.target_files)
        _publish(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return package


def _check_tree(root: Path, files: tuple[ManifestFile, ...]) -> None:
    """The staged folder holds exactly the target files with the target sizes."""
    found = {p.relative_to(root).as_posix(): p.stat().st_size for p in root.rglob("*") if p.is_file()}
    wanted = {f.path: f.size for f in files}
    if found != wanted:
        missing = sorted(set(wanted) - set(found))[:3]
        extra = sorted(set(found) - set(wanted))[:3]
        raise AmrError(f"result does not match the target manifest (missing {missing}, extra {extra})")


# ---------------------------------------------------------------------------------------------- h5.json


def descriptor(
    *,
    h5_id: str,
    version: str,
    resource_type: str,
    vhost: str,
    main_url: str | None,
    package_url: str,
    build: AmrBuild,
    client_ranges: Mapping[str, Mapping[str, str]],
    extend_info: Mapping[str, Any] | None = None,
    download_network: int = 1,
    install_type: int = 0,
    name: str | None = None,
    diff: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``h5.json`` descriptor of one package version (docs/formats.md §3). Pure: no I/O, no validation
    beyond shaping; the service has validated the values.

    ``client_ranges`` maps a platform (``"ios"``, ``"android"``) to ``{"min": "...", "max": "..."}``
    (``max`` empty = no upper limit).
    """
    host = f"{h5_id}.{vhost}" if vhost else ""
    doc: dict[str, Any] = {
        "format": DESCRIPTOR_FORMAT,
        "h5Id": h5_id,
        "version": version,
        "resourceType": resource_type,
        "vhost": vhost,
        "vhostUrl": f"https://{host}" if host else "",
        "mainUrl": main_url or "",
        "entryUrl": f"https://{host}{main_url}" if host and main_url else "",
        "packageUrl": package_url,
        "size": build.size,
        "fileCount": build.file_count,
        "digest": {"sha256": build.sha256, "md5": build.md5},
        "signature": {
            "algorithm": ALGORITHM,
            "keyId": build.key_id,
            "manifest": MANIFEST_NAME,
            "manifestSha256": build.manifest_sha256,
        },
        "clientRanges": {
            platform: {"min": str(r.get("min") or ""), "max": str(r.get("max") or "")}
            for platform, r in sorted(client_ranges.items())
        },
        "extendInfo": dict(extend_info or {}),
        "downloadNetwork": int(download_network),
        "installType": int(install_type),
    }
    if name is not None:
        doc["name"] = name
    if diff is not None:
        doc["diff"] = dict(diff)
    return doc


def package_files(amr_fileobj: IO[bytes]) -> Iterator[tuple[str, int, IO[bytes]]]:
    """``(path, size, stream)`` of each package file of an ``.amr`` this service built (``<h5Id>/...``,
    in manifest order), each streamed from the (seekable) file; the signature files are skipped. For
    serving a released global package online: the archive was verified when it was built, so it is
    not re-verified here."""
    with tarfile.open(fileobj=amr_fileobj, mode="r:") as archive:
        for member in archive:
            if not member.isfile() or member.name in (MANIFEST_NAME, SIGNATURE_NAME):
                continue
            stream = present(archive.extractfile(member), f"the stream of {member.name}")  # a regular file
            yield member.name, member.size, stream
