"""Small but well-formed app files for tests: an APK with a compiled (binary XML) manifest, an .ipa,
a dSYM .tgz. Built from the format descriptions, independently of chalicelib.packaging."""

from __future__ import annotations

import io
import plistlib
import struct
import tarfile
import zipfile

ANDROID_NS = "http://schemas.android.com/apk/res/android"
NO_INDEX = 0xFFFFFFFF


def _utf16_pool(strings: list[str]) -> bytes:
    data, offsets = b"", []
    for s in strings:
        offsets.append(len(data))
        encoded = s.encode("utf-16-le")
        data += struct.pack("<H", len(encoded) // 2) + encoded + b"\x00\x00"
    data += b"\x00" * (-len(data) % 4)
    header_size = 28
    strings_start = header_size + 4 * len(strings)
    size = strings_start + len(data)
    header = struct.pack("<HHIIIIII", 0x0001, header_size, size, len(strings), 0, 0, strings_start, 0)
    return header + struct.pack(f"<{len(strings)}I", *offsets) + data


def binary_manifest(
    package: str = "com.example.demo",
    version_name: str | None = "5.0.1.2",
    version_code: int = 42,
    *,
    obfuscated: bool = False,
) -> bytes:
    """A compiled ``AndroidManifest.xml``: ``<manifest package=… android:versionCode=… android:versionName=…>``.

    ``obfuscated`` blanks the attribute name strings, as packers do; Android (and we) then match the
    attributes by their resource IDs alone.
    """
    name_code, name_name = ("", "") if obfuscated else ("versionCode", "versionName")
    strings = [
        name_code,
        name_name,
        "android",
        ANDROID_NS,
        "package",
        "manifest",
        package,
        version_name or "",
    ]
    code_i, name_i, prefix_i, uri_i, package_i, manifest_i, value_pkg_i, value_name_i = range(len(strings))
    pool = _utf16_pool(strings)
    resource_map = struct.pack("<HHI", 0x0180, 8, 16) + struct.pack("<II", 0x0101021B, 0x0101021C)
    start_ns = struct.pack("<HHIIIII", 0x0100, 16, 24, 1, NO_INDEX, prefix_i, uri_i)
    attributes = [
        struct.pack("<IIIHBBI", uri_i, code_i, NO_INDEX, 8, 0, 0x10, version_code),
        struct.pack("<IIIHBBI", NO_INDEX, package_i, value_pkg_i, 8, 0, 0x03, value_pkg_i),
    ]
    if version_name is not None:
        attributes.append(struct.pack("<IIIHBBI", uri_i, name_i, value_name_i, 8, 0, 0x03, value_name_i))
    element = struct.pack(
        "<HHIIIIIHHHHHH", 0x0102, 16, 36 + 20 * len(attributes), 1, NO_INDEX, NO_INDEX, manifest_i,
        20, 20, len(attributes), 0, 0, 0,
    ) + b"".join(attributes)  # fmt: skip
    end_element = struct.pack("<HHIIIII", 0x0103, 16, 24, 1, NO_INDEX, NO_INDEX, manifest_i)
    end_ns = struct.pack("<HHIIIII", 0x0101, 16, 24, 1, NO_INDEX, prefix_i, uri_i)
    body = pool + resource_map + start_ns + element + end_element + end_ns
    return struct.pack("<HHI", 0x0003, 8, 8 + len(body)) + body


FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def _put(z: zipfile.ZipFile, name: str, data: bytes | str) -> None:
    """A member with a fixed timestamp: the same inputs make the same bytes (tests compare digests)."""
    z.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), data, compress_type=zipfile.ZIP_DEFLATED)


def apk(version_name: str | None = "5.0.1.2", *, manifest: bytes | None = None, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        if manifest is not False:
            _put(z, "AndroidManifest.xml", manifest or binary_manifest(version_name=version_name, **kwargs))
        _put(z, "classes.dex", b"dex\n035\x00" + b"\x00" * 64)
        _put(z, "resources.arsc", b"\x02\x00\x0c\x00" + b"\x00" * 32)
    return buffer.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            _put(z, name, data)
    return buffer.getvalue()


def ipa(short_version: str = "5.0", *, bundle_id: str = "com.example.demo", app: str = "Demo.app") -> bytes:
    info = {
        "CFBundleIdentifier": bundle_id,
        "CFBundleShortVersionString": short_version,
        "CFBundleVersion": short_version + ".7",
        "CFBundleExecutable": app.removesuffix(".app"),
    }
    return zip_of(
        {
            f"Payload/{app}/Info.plist": plistlib.dumps(info, fmt=plistlib.FMT_BINARY),
            f"Payload/{app}/{app.removesuffix('.app')}": b"\xcf\xfa\xed\xfe" + b"\x00" * 64,
        }
    )


def tgz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def dsym(app: str = "Demo") -> bytes:
    return tgz(
        {
            f"{app}.app.dSYM/Contents/Info.plist": plistlib.dumps(
                {"CFBundleIdentifier": "com.apple.xcode.dsym"}
            ),
            f"{app}.app.dSYM/Contents/Resources/DWARF/{app}": b"\xcf\xfa\xed\xfe" + b"\x00" * 64,
        }
    )


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
