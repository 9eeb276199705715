"""Android binary XML (the compiled ``AndroidManifest.xml`` inside an APK): just enough to read the
``<manifest>`` element's ``package``, ``versionName`` and ``versionCode``.

The format (AOSP ``frameworks/base/libs/androidfw/include/androidfw/ResourceTypes.h``) is a sequence of
chunks, each starting with ``u16 type, u16 headerSize, u32 size`` (little-endian)::

    RES_XML_TYPE 0x0003                      the file: header, then the chunks below
      RES_STRING_POOL_TYPE 0x0001            every string, UTF-16 or UTF-8 (flag 0x100)
      RES_XML_RESOURCE_MAP_TYPE 0x0180       resource ID of string i (attribute names)
      RES_XML_START_NAMESPACE_TYPE 0x0100    ... namespaces, elements, text
      RES_XML_START_ELEMENT_TYPE 0x0102      the first one is <manifest>

Attribute names are matched the way Android matches them: by resource ID when the resource map has
one (obfuscators blank the name strings), else by name. ``package`` has no resource ID.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

RES_NULL_TYPE = 0x0000
RES_XML_TYPE = 0x0003
RES_STRING_POOL_TYPE = 0x0001
RES_XML_RESOURCE_MAP_TYPE = 0x0180
RES_XML_START_ELEMENT_TYPE = 0x0102
UTF8_FLAG = 0x100
NO_INDEX = 0xFFFFFFFF

ATTR_VERSION_CODE = 0x0101021B
ATTR_VERSION_NAME = 0x0101021C
ANDROID_NS = "http://schemas.android.com/apk/res/android"

TYPE_REFERENCE = 0x01
TYPE_STRING = 0x03
TYPE_INT_DEC = 0x10
TYPE_INT_HEX = 0x11


class BinaryXmlError(ValueError):
    """Not an Android binary XML document, or a damaged one."""


@dataclass(frozen=True)
class ManifestInfo:
    package: str | None
    version_name: str | None
    version_code: int | None
    version_name_is_reference: bool = False  # "@string/…": the real text is in resources.arsc


def read_manifest(data: bytes) -> ManifestInfo:
    """The ``<manifest>`` attributes of a compiled ``AndroidManifest.xml``.

    Raises:
        BinaryXmlError: the bytes are not binary XML, or end before a ``<manifest>`` element.
    """
    if len(data) < 8:
        raise BinaryXmlError("too short to be Android binary XML")
    file_type, header_size, _file_size = struct.unpack_from("<HHI", data, 0)
    # Android's own parser does not insist on the file type (some packers write 0): neither do we.
    if file_type not in (RES_XML_TYPE, RES_NULL_TYPE) or header_size < 8:
        raise BinaryXmlError("not Android binary XML (a text AndroidManifest.xml is not a built APK)")
    strings: list[str] = []
    resource_ids: list[int] = []
    offset = header_size
    while offset + 8 <= len(data):
        chunk_type, chunk_header, chunk_size = struct.unpack_from("<HHI", data, offset)
        if chunk_size < 8 or chunk_header < 8 or chunk_header > chunk_size or offset + chunk_size > len(data):
            raise BinaryXmlError(f"damaged chunk at byte {offset}")
        if chunk_type == RES_STRING_POOL_TYPE:
            strings = _string_pool(data, offset, chunk_header, chunk_size)
        elif chunk_type == RES_XML_RESOURCE_MAP_TYPE:
            count = (chunk_size - chunk_header) // 4
            resource_ids = list(struct.unpack_from(f"<{count}I", data, offset + chunk_header))
        elif chunk_type == RES_XML_START_ELEMENT_TYPE:
            return _manifest(data, offset, chunk_header, chunk_size, strings, resource_ids)
        offset += chunk_size
    raise BinaryXmlError("no <manifest> element")


def _string_pool(data: bytes, start: int, header: int, size: int) -> list[str]:
    if header < 28:
        raise BinaryXmlError("damaged string pool header")
    count, _styles, flags, strings_start, _styles_start = struct.unpack_from("<5I", data, start + 8)
    if header + 4 * count > size:
        raise BinaryXmlError("damaged string pool: more strings than fit")
    offsets = struct.unpack_from(f"<{count}I", data, start + header)
    base, end = start + strings_start, start + size
    utf8 = bool(flags & UTF8_FLAG)
    return [_string(data, base + o, end, utf8) for o in offsets]


def _string(data: bytes, at: int, end: int, utf8: bool) -> str:
    try:
        if utf8:
            _chars, at = _length8(data, at)
            length, at = _length8(data, at)
            if at + length > end:
                raise BinaryXmlError("damaged string pool: a string runs past its end")
            return data[at : at + length].decode("utf-8", errors="replace")
        length, at = _length16(data, at)
        if at + 2 * length > end:
            raise BinaryXmlError("damaged string pool: a string runs past its end")
        return data[at : at + 2 * length].decode("utf-16-le", errors="replace")
    except (struct.error, IndexError):
        raise BinaryXmlError("damaged string pool") from None


def _length8(data: bytes, at: int) -> tuple[int, int]:
    first = data[at]
    if first & 0x80:
        return ((first & 0x7F) << 8) | data[at + 1], at + 2
    return first, at + 1


def _length16(data: bytes, at: int) -> tuple[int, int]:
    (first,) = struct.unpack_from("<H", data, at)
    if first & 0x8000:
        (second,) = struct.unpack_from("<H", data, at + 2)
        return ((first & 0x7FFF) << 16) | second, at + 4
    return first, at + 2


def _manifest(
    data: bytes, start: int, header: int, size: int, strings: list[str], resource_ids: list[int]
) -> ManifestInfo:
    def text(index: int) -> str | None:
        return strings[index] if index < len(strings) else None

    ext = start + header
    if ext + 20 > start + size:
        raise BinaryXmlError("damaged element")
    _ns, name, attr_start, attr_size, attr_count = struct.unpack_from("<IIHHH", data, ext)
    if text(name) != "manifest":
        raise BinaryXmlError(f"the root element is <{text(name)}>, not <manifest>")
    if attr_size < 20 or ext + attr_start + attr_count * attr_size > start + size:
        raise BinaryXmlError("damaged <manifest> attributes")
    found: dict[str, tuple[int, int, int]] = {}
    for n in range(attr_count):
        at = ext + attr_start + n * attr_size
        ns, attr_name, raw, _size, _res0, data_type, value = struct.unpack_from("<IIIHBBI", data, at)
        resource_id = resource_ids[attr_name] if attr_name < len(resource_ids) else 0
        key = {ATTR_VERSION_NAME: "versionName", ATTR_VERSION_CODE: "versionCode"}.get(resource_id)
        if key is None and not resource_id:
            label = text(attr_name)
            if ns == NO_INDEX and label == "package":
                key = "package"
            elif label in ("versionName", "versionCode") and text(ns) == ANDROID_NS:
                key = label
        if key is not None:
            found.setdefault(key, (raw, data_type, value))

    def string_of(key: str) -> str | None:
        if key not in found:
            return None
        raw, data_type, value = found[key]
        if data_type == TYPE_STRING:
            return text(value)
        return text(raw) if raw != NO_INDEX else None

    code: int | None = None
    if "versionCode" in found:
        raw, data_type, value = found["versionCode"]
        if data_type in (TYPE_INT_DEC, TYPE_INT_HEX):
            code = value
        elif (literal := string_of("versionCode")) is not None and literal.strip().isdigit():
            code = int(literal.strip())
    is_reference = "versionName" in found and found["versionName"][1] == TYPE_REFERENCE
    return ManifestInfo(
        package=string_of("package"),
        version_name=None if is_reference else string_of("versionName"),
        version_code=code,
        version_name_is_reference=is_reference,
    )
