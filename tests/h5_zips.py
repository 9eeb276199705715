"""H5 offline-package zips for tests: valid ones and a corpus of hostile ones.

Every function writes a zip to ``path`` and returns ``path`` (a ``pathlib.Path``), so tests can do
``h5_zips.normal(tmp_path / "p.zip")``. Other helpers' tests import this module; keep signatures stable.

Defaults: H5 ID ``12345678``, tenant app ``ABCDEF1234567``, workspace ``default``, global domain
``mcube-prod.mpaascloud.com``. ``HOSTILE`` maps a case name to (writer, words the rule must contain).
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

H5_ID = "12345678"
APP_ID = "ABCDEF1234567"
WORKSPACE = "default"
DOMAIN = "mcube-prod.mpaascloud.com"
INDEX_HTML = (
    b'<!DOCTYPE html><html><head><link href="css/app.css" rel="stylesheet"></head><body>hi</body></html>'
)

Files = Mapping[str, bytes]


def noise(size: int, seed: str = "") -> bytes:
    """``size`` incompressible but reproducible bytes (SHA-256 in counter mode)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def write_zip(
    path: str | os.PathLike[str],
    files: Files | Iterable[tuple[str, bytes]],
    *,
    method: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """A zip with exactly these (name, bytes) members, in order (duplicates allowed)."""
    path = Path(path)
    items = files.items() if isinstance(files, Mapping) else files
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in items:
            if name.endswith("/"):
                archive.writestr(zipfile.ZipInfo(name), b"")
            else:
                archive.writestr(
                    zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data, compress_type=method
                )
    return path


def normal_files(h5_id: str = H5_ID, *, version: str = "1") -> dict[str, bytes]:
    return {
        f"{h5_id}/": b"",
        f"{h5_id}/www/": b"",
        f"{h5_id}/www/index.html": INDEX_HTML + version.encode(),
        f"{h5_id}/www/css/app.css": b"body{color:#333}\n" * 20,
        f"{h5_id}/www/js/app.js": b"console.log('v" + version.encode() + b"');\n",
        f"{h5_id}/www/img/logo.png": bytes(range(256)) * 4,
    }


def normal(
    path: str | os.PathLike[str], h5_id: str = H5_ID, *, version: str = "1", extra: Files | None = None
) -> Path:
    """A valid normal package: ``<ID>/www/index.html`` plus css, js and a binary image."""
    return write_zip(path, {**normal_files(h5_id, version=version), **(extra or {})})


def global_files(
    h5_id: str = H5_ID, app_id: str = APP_ID, workspace: str = WORKSPACE, domain: str = DOMAIN
) -> dict[str, bytes]:
    base = f"{h5_id}/{domain}/{app_id}_{workspace}"
    return {
        f"{base}/common.js": b"window.common = 1;\n",
        f"{base}/v1/antui.css": b".am{}\n" * 50,
        f"{base}/v1/fonts/icon.woff": noise(2048, "icon"),
    }


def global_(
    path: str | os.PathLike[str],
    h5_id: str = H5_ID,
    app_id: str = APP_ID,
    workspace: str = WORKSPACE,
    domain: str = DOMAIN,
) -> Path:
    """A valid global package: files under ``<ID>/<domain>/<appId>_<workspaceId>/``."""
    return write_zip(path, global_files(h5_id, app_id, workspace, domain))


def many_files(path: str | os.PathLike[str], count: int = 5000, h5_id: str = H5_ID) -> Path:
    """A valid normal package of ``count`` files (index.html plus ``count - 1`` small assets)."""
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{h5_id}/www/index.html", INDEX_HTML)
        for i in range(count - 1):
            archive.writestr(f"{h5_id}/www/a/{i // 100:03d}/f{i:05d}.js", f"var x{i} = {i};\n".encode())
    return path


def streamed(path: str | os.PathLike[str], h5_id: str = H5_ID) -> Path:
    """A valid normal package written to a pipe-like stream: sizes and CRCs in data descriptors (flag bit 3)."""

    class _Unseekable(io.RawIOBase):
        def __init__(self, raw):
            self._raw = raw

        def writable(self):
            return True

        def write(self, b):
            return self._raw.write(b)

    path = Path(path)
    with (
        open(path, "wb") as raw,
        zipfile.ZipFile(_Unseekable(raw), "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        for name, data in normal_files(h5_id).items():
            if not name.endswith("/"):
                archive.writestr(name, data)
    return path


def device_file(path: str | os.PathLike[str]) -> Path:
    path = write_zip(path, normal_files())
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo(f"{H5_ID}/www/fifo")
        info.create_system = 3
        info.external_attr = 0o010644 << 16  # a named pipe
        archive.writestr(info, b"")
    return path


# ------------------------------------------------------------------------------------------ hostile


def text_named_zip(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.write_text("this is not a zip, just text with a .zip name\n")
    return path


def empty_file(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.write_bytes(b"")
    return path


def empty_zip(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, {})


def wrong_top_folder(path: str | os.PathLike[str]) -> Path:
    return normal(path, h5_id="87654321")


def two_top_folders(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, {**normal_files(), "87654321/www/index.html": INDEX_HTML})


def file_at_top(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, {**normal_files(), "readme.txt": b"hi"})


def top_folder_is_a_file(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, {H5_ID: b"a file, not a folder"})


def normal_without_index(path: str | os.PathLike[str]) -> Path:
    files = normal_files()
    del files[f"{H5_ID}/www/index.html"]
    return write_zip(path, files)


def global_wrong_owner(path: str | os.PathLike[str]) -> Path:
    return global_(path, app_id="OTHERAPP00000")


def global_too_shallow(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, {**global_files(), f"{H5_ID}/{DOMAIN}/loose.js": b"x"})


def global_bad_domain(path: str | os.PathLike[str]) -> Path:
    return global_(path, domain="not_a_domain")


def url_encoding_needed(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, {**normal_files(), f"{H5_ID}/www/img/my logo.png": b"x"})


def non_ascii_name(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, {**normal_files(), f"{H5_ID}/www/图片.png": b"x"})


def path_too_long(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, {**normal_files(), f"{H5_ID}/www/{'a' * 90}/{'b' * 10}.js": b"x"})


def traversal_dotdot(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, {**normal_files(), f"{H5_ID}/www/../../etc/passwd": b"x"})


def traversal_absolute(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, {**normal_files(), "/etc/passwd": b"x"})


def traversal_drive(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, {**normal_files(), "C:/Windows/evil.dll": b"x"})


def traversal_backslash(path: str | os.PathLike[str]) -> Path:
    """A member whose name holds a backslash (zipfile would turn ``\\`` into ``/`` when writing)."""
    path = write_zip(path, {**normal_files(), f"{H5_ID}/www/xx..xxevil.js": b"x"})
    _patch_name(path, b"xx..xxevil.js", b"..\\..\\evil.js")
    return path


def symlink(path: str | os.PathLike[str]) -> Path:
    path = write_zip(path, normal_files())
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo(f"{H5_ID}/www/link.js")
        info.create_system = 3
        info.external_attr = 0o120777 << 16
        archive.writestr(info, b"/etc/passwd")
    return path


def encrypted_flag(path: str | os.PathLike[str]) -> Path:
    """A member with general-purpose flag bit 0 (encrypted) set in both headers."""
    path = write_zip(path, normal_files(), method=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    target = f"{H5_ID}/www/js/app.js".encode()
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        name_at = 30 if sig == b"PK\x03\x04" else 46
        at = data.find(sig)
        while at >= 0:
            (name_len,) = struct.unpack_from("<H", data, at + (26 if sig == b"PK\x03\x04" else 28))
            if bytes(data[at + name_at : at + name_at + name_len]) == target:
                (flags,) = struct.unpack_from("<H", data, at + flag_at)
                struct.pack_into("<H", data, at + flag_at, flags | 0x1)
            at = data.find(sig, at + 4)
    path.write_bytes(bytes(data))
    return path


def duplicate_name(path: str | os.PathLike[str]) -> Path:
    items = list(normal_files().items()) + [(f"{H5_ID}/www/js/app.js", b"again")]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns "Duplicate name"
        return write_zip(path, items)


def case_duplicate(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, {**normal_files(), f"{H5_ID}/www/JS/App.js": b"other"})


def file_and_folder(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, {**normal_files(), f"{H5_ID}/www/js": b"a file named like the folder"})


def crc_corrupt(path: str | os.PathLike[str]) -> Path:
    """A stored member whose bytes were flipped after the CRC was recorded."""
    payload = b"CORRUPT-ME-" + b"0123456789" * 50
    path = write_zip(path, {**normal_files(), f"{H5_ID}/www/data.txt": payload}, method=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    at = data.find(payload)
    data[at + 20] ^= 0xFF
    data[at + 21] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def deflate_corrupt(path: str | os.PathLike[str]) -> Path:
    """A deflated member whose compressed stream was damaged (zlib error or CRC mismatch)."""
    payload = noise(4096, "blob")
    path = write_zip(path, {**normal_files(), f"{H5_ID}/www/blob.bin": payload})
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(f"{H5_ID}/www/blob.bin")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode())
    for i in range(start + 100, start + 110):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


def _raw_zip(path: Path, entries: list[tuple[str, int, int, int, list[bytes]]]) -> Path:
    """A zip written by hand: (name, method, crc, expanded size, compressed parts) per member, no ZIP64."""
    central = bytearray()
    offset = 0
    with open(path, "wb") as out:
        for name, method, crc, size, parts in entries:
            raw = name.encode()
            csize = sum(len(p) for p in parts)
            header = struct.pack(
                "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x5821, crc, csize, size, len(raw), 0
            )
            out.write(header + raw)
            for part in parts:
                out.write(part)
            central += (
                struct.pack(
                    "<4sHHHHHHIIIHHHHHII",
                    b"PK\x01\x02",
                    0x031E,
                    20,
                    0,
                    method,
                    0,
                    0x5821,
                    crc,
                    csize,
                    size,
                    len(raw),
                    0,
                    0,
                    0,
                    0,
                    0o100644 << 16,
                    offset,
                )
                + raw
            )
            offset += len(header) + len(raw) + csize
        out.write(central)
        out.write(
            struct.pack(
                "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), offset, 0
            )
        )
    return path


def zip_bomb(path: str | os.PathLike[str], expanded_mib: int = 1100) -> Path:
    """A real bomb: ``expanded_mib`` MiB of zeros (default 1.1 GiB) in one deflated member of ~1 MiB.

    The deflate stream is the same 1 MiB block of zeros compressed once and repeated (each block ends with a
    full flush, so the copies are byte-identical), so writing it costs a CRC pass, not a compression pass.
    """
    chunk = b"\0" * (1024 * 1024)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    final = deflate.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(expanded_mib):
        crc = zlib.crc32(chunk, crc)
    entries = []
    for name, data in normal_files().items():
        if name.endswith("/"):
            continue
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        entries.append((name, 8, zlib.crc32(data), len(data), [packer.compress(data) + packer.flush()]))
    entries.append(
        (f"{H5_ID}/www/zeros.bin", 8, crc, expanded_mib * len(chunk), [block] * expanded_mib + [final])
    )
    return _raw_zip(Path(path), entries)


def ratio_bomb(path: str | os.PathLike[str], expanded_mib: int = 8) -> Path:
    """A member of a few MiB of zeros: far beyond 200:1 but under the total-size limit."""
    return zip_bomb(path, expanded_mib)


def lying_header(path: str | os.PathLike[str]) -> Path:
    """A deflated member whose headers claim 10 bytes but whose stream expands to 64 KiB."""
    big = b"A" * 65536
    path = write_zip(path, {**normal_files(), f"{H5_ID}/www/liar.txt": big})
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(f"{H5_ID}/www/liar.txt")
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, info.header_offset + 22, 10)  # local header: uncompressed size
    cd = data.find(b"PK\x01\x02")
    while cd >= 0:
        (name_len,) = struct.unpack_from("<H", data, cd + 28)
        if bytes(data[cd + 46 : cd + 46 + name_len]) == info.filename.encode():
            struct.pack_into("<I", data, cd + 24, 10)  # central directory: uncompressed size
            struct.pack_into("<I", data, cd + 16, zlib.crc32(b"A" * 10))
            struct.pack_into("<I", data, info.header_offset + 14, zlib.crc32(b"A" * 10))
            break
        cd = data.find(b"PK\x01\x02", cd + 4)
    path.write_bytes(bytes(data))
    return path


def too_many_members(path: str | os.PathLike[str], count: int = 10_001) -> Path:
    return many_files(path, count)


def unsupported_method(path: str | os.PathLike[str]) -> Path:
    return write_zip(path, normal_files(), method=zipfile.ZIP_BZIP2)


def _patch_name(path: Path, old: bytes, new: bytes) -> None:
    assert len(old) == len(new)
    data = path.read_bytes()
    path.write_bytes(data.replace(old, new))


# Case name -> (writer, word(s) the ValidationError rule must contain). Defaults: h5_id=H5_ID, normal layout,
# except the "global_*" cases which are inspected as global packages.
HOSTILE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "text_named_zip": (text_named_zip, "is not a zip archive"),
    "empty_file": (empty_file, "is empty"),
    "empty_zip": (empty_zip, "has no files"),
    "wrong_top_folder": (wrong_top_folder, "top folder is 87654321; it must be the H5 ID 12345678"),
    "two_top_folders": (two_top_folders, "outside the top folder"),
    "file_at_top": (file_at_top, "outside the top folder"),
    "top_folder_is_a_file": (top_folder_is_a_file, "is a file where the top folder 12345678/ must be"),
    "normal_without_index": (normal_without_index, "12345678/www/index.html"),
    "global_wrong_owner": (global_wrong_owner, "third-level folder"),
    "global_too_shallow": (global_too_shallow, "is not under 12345678/<domain>/"),
    "global_bad_domain": (global_bad_domain, "is not a domain name"),
    "url_encoding_needed": (url_encoding_needed, "need URL-encoding"),
    "non_ascii_name": (non_ascii_name, "need URL-encoding"),
    "path_too_long": (path_too_long, "at most 100 are allowed"),
    "traversal_dotdot": (traversal_dotdot, "path traversal"),
    "traversal_absolute": (traversal_absolute, "absolute path"),
    "traversal_drive": (traversal_drive, "drive letter"),
    "traversal_backslash": (traversal_backslash, "backslash"),
    "symlink": (symlink, "symbolic link"),
    "device_file": (device_file, "is not a regular file (unix mode 0o10644)"),
    "encrypted_flag": (encrypted_flag, "is encrypted"),
    "duplicate_name": (duplicate_name, "appears twice; names must be unique"),
    "case_duplicate": (case_duplicate, "twice when case is ignored"),
    "file_and_folder": (file_and_folder, "both a file and a folder"),
    "crc_corrupt": (crc_corrupt, "CRC-32 mismatch"),
    "deflate_corrupt": (deflate_corrupt, "is corrupt"),
    "ratio_bomb": (ratio_bomb, "zip bomb"),
    "lying_header": (lying_header, "is corrupt"),
    "too_many_members": (too_many_members, "at most 10000 are allowed"),
    "unsupported_method": (unsupported_method, "unsupported compression (bzip2)"),
}
