"""The signed .amr package and h5.json (chalicelib.packaging.amr): build → verify → extract, and tampering."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import tarfile

import pytest

from chalicelib.domain.errors import ValidationError
from chalicelib.packaging import amr, h5zip
from chalicelib.security import rsa_keys
from tests import h5_zips


@functools.cache
def _key():
    return rsa_keys.generate_private_key()


def _public() -> str:
    return rsa_keys.public_key_pem(_key())


def _build(
    path, *, resource_type="normal", version="1.0.0.1", key=None
) -> tuple[bytes, amr.AmrBuild, h5zip.ZipReport]:
    with open(path, "rb") as f:
        report = h5zip.inspect(
            f,
            h5_id=h5_zips.H5_ID,
            resource_type=resource_type,
            tenant_app_id=h5_zips.APP_ID,
            workspace_id=h5_zips.WORKSPACE,
        )
        out = io.BytesIO()
        built = amr.build(
            f,
            report,
            out,
            private_key=key or _key(),
            descriptor_fields={"version": version, "mainUrl": report.main_entry or ""},
        )
    return out.getvalue(), built, report


def _members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        return tar.getmembers()


def _refused(data: bytes, **kwargs) -> str:
    with pytest.raises(amr.AmrError) as err:
        amr.verify(io.BytesIO(data), _public(), **kwargs)
    assert isinstance(err.value, ValidationError)
    assert err.value.field == "package"
    return err.value.rule


@pytest.fixture
def package(tmp_path):
    return _build(h5_zips.normal(tmp_path / "p.zip"))


def test_build_writes_a_plain_tar_with_manifest_signature_then_files(package):
    data, built, report = package
    names = [m.name for m in _members(data)]
    assert names == [
        "CERT.json",
        "CERT.json.sig",
        "12345678/www/css/app.css",
        "12345678/www/img/logo.png",
        "12345678/www/index.html",
        "12345678/www/js/app.js",
    ]
    assert built.size == len(data)
    assert built.sha256 == hashlib.sha256(data).hexdigest()
    assert built.md5 == hashlib.md5(data).hexdigest()
    assert built.file_count == 4
    assert built.key_id == rsa_keys.key_id(_key())
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        manifest_bytes = tar.extractfile("CERT.json").read()
        signature = tar.extractfile("CERT.json.sig").read()
        for member in report.members:
            assert tar.extractfile(f"12345678/{member.path}").read() == h5_zips.normal_files()[member.name]
    assert hashlib.sha256(manifest_bytes).hexdigest() == built.manifest_sha256
    assert rsa_keys.verify(_public(), manifest_bytes, signature)
    manifest = json.loads(manifest_bytes)
    assert manifest_bytes == amr.canonical_json(manifest)
    assert manifest["format"] == "mds-amr/1"
    assert manifest["h5Id"] == "12345678"
    assert manifest["version"] == "1.0.0.1"
    assert manifest["mainUrl"] == "/www/index.html"
    assert manifest["algorithm"] == "RSASSA-PKCS1-v1_5-SHA256"
    assert manifest["keyId"] == built.key_id
    assert [f["path"] for f in manifest["files"]] == sorted(report.paths)
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == {m.path: m.sha256 for m in report.members}


def test_build_is_deterministic(tmp_path):
    path = h5_zips.normal(tmp_path / "p.zip")
    assert _build(path)[0] == _build(path)[0]


def test_build_refuses_reserved_or_missing_fields(tmp_path):
    path = h5_zips.normal(tmp_path / "p.zip")
    with open(path, "rb") as f:
        report = h5zip.inspect(
            f, h5_id="12345678", resource_type="normal", tenant_app_id="A", workspace_id="w"
        )
        for fields in ({}, {"version": "1", "files": []}, {"version": "1", "h5Id": "87654321"}):
            with pytest.raises(ValueError):
                amr.build(f, report, io.BytesIO(), private_key=_key(), descriptor_fields=fields)


def test_build_notices_a_zip_that_changed_after_inspect(tmp_path):
    path = h5_zips.normal(tmp_path / "p.zip")
    with open(path, "rb") as f:
        report = h5zip.inspect(
            f, h5_id="12345678", resource_type="normal", tenant_app_id="A", workspace_id="w"
        )
    other = h5_zips.normal(tmp_path / "q.zip", version="2")
    with open(other, "rb") as f, pytest.raises(amr.AmrError) as err:
        amr.build(f, report, io.BytesIO(), private_key=_key(), descriptor_fields={"version": "1"})
    assert "changed after it was inspected" in err.value.rule


def test_verify_accepts_the_built_package(package):
    data, built, report = package
    verified = amr.verify(io.BytesIO(data), _public(), expected_sha256=built.sha256)
    assert verified.h5_id == "12345678"
    assert verified.version == "1.0.0.1"
    assert [f.path for f in verified.files] == sorted(report.paths)
    assert verified.sha256 == built.sha256
    assert verified.size == built.size
    assert verified.manifest_sha256 == built.manifest_sha256
    assert not verified.is_diff
    # a key object works as well as PEM text
    assert amr.verify(io.BytesIO(data), _key().public_key()).version == "1.0.0.1"


def test_round_trip_of_a_global_package_and_5000_files(tmp_path):
    data, built, _ = _build(h5_zips.global_(tmp_path / "g.zip"), resource_type="global")
    dest = tmp_path / "g"
    verified = amr.extract_verified(io.BytesIO(data), _public(), dest)
    assert verified.manifest["resourceType"] == "global"
    for name, content in h5_zips.global_files().items():
        assert (dest / name.split("/", 1)[1]).read_bytes() == content
    data, built, _ = _build(h5_zips.many_files(tmp_path / "m.zip", 5000))
    assert amr.verify(io.BytesIO(data), _public(), expected_sha256=built.sha256).manifest["files"][4999]


def test_extract_writes_exactly_the_package_files(package, tmp_path):
    data, built, report = package
    dest = tmp_path / "installed" / "12345678"
    amr.extract_verified(io.BytesIO(data), _public(), dest, expected_sha256=built.sha256)
    written = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert written == sorted(report.paths)
    for member in report.members:
        assert (dest / member.path).read_bytes() == h5_zips.normal_files()[member.name]


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _offsets(data: bytes) -> dict[str, int]:
    return {m.name: m.offset_data for m in _members(data)}


def test_tampering_with_one_byte_of_a_file_is_refused(package):
    data, _, _ = package
    at = _offsets(data)["12345678/www/js/app.js"]
    rule = _refused(_flip(data, at + 3))
    assert rule == "file 'www/js/app.js' does not match its SHA-256 in the manifest"


def test_tampering_with_the_manifest_or_the_signature_is_refused(package):
    data, _, _ = package
    offsets = _offsets(data)
    expected = "signature of CERT.json does not match the public key; do not install it"
    assert _refused(_flip(data, offsets["CERT.json"] + 40)) == expected
    assert _refused(_flip(data, offsets["CERT.json.sig"] + 7)) == expected


def test_a_package_signed_by_another_key_is_refused(tmp_path):
    data, _, _ = _build(h5_zips.normal(tmp_path / "p.zip"), key=rsa_keys.generate_private_key())
    assert "signature of CERT.json does not match" in _refused(data)


def test_truncated_packages_are_refused(package):
    data, _, _ = package
    offsets = _offsets(data)
    for cut in (
        100,
        offsets["CERT.json.sig"] + 10,
        offsets["12345678/www/js/app.js"] + 5,
        len(data) - 1024 - 300,
    ):
        assert _refused(data[:cut]).startswith("is truncated"), cut


def test_a_missing_final_end_marker_is_refused(package):
    data, _, _ = package
    assert _refused(data[: len(data) - 1024]).startswith("is truncated")


def _tar_entry(name: str, content: bytes) -> bytes:
    return amr._header(name, len(content)) + content + amr._pad(len(content))


def test_an_extra_file_is_refused(package):
    data, _, _ = package
    body = data[: len(data) - 1024]
    extra = body + _tar_entry("12345678/www/evil.js", b"alert(1)") + b"\0" * 1024
    assert _refused(extra) == "has file '12345678/www/evil.js' that the manifest does not list"


def test_a_missing_file_is_refused(package):
    data, _, _ = package
    members = _members(data)
    last = members[-1]
    assert last.name == "12345678/www/js/app.js"
    without_last = data[: last.offset] + b"\0" * 1024
    assert _refused(without_last) == "is missing file 'www/js/app.js' listed in the manifest"
    # a file replaced by another name in its place
    swapped = data[: last.offset] + _tar_entry("12345678/www/js/other.js", b"x") + b"\0" * 1024
    assert _refused(swapped) == "has file '12345678/www/js/other.js' where the manifest lists 'www/js/app.js'"


def test_trailing_garbage_and_wrong_descriptor_digest_are_refused(package):
    data, built, _ = package
    assert _refused(data + b"garbage") == "has data after the end of the archive"
    assert _refused(data, expected_sha256="0" * 64) == "SHA-256 of the package does not match the descriptor"
    assert (
        amr.verify(io.BytesIO(data + b"\0" * 9216), _public()).version == "1.0.0.1"
    )  # tar record padding is fine


def test_not_an_amr_at_all(tmp_path):
    zip_bytes = h5_zips.normal(tmp_path / "p.zip").read_bytes()
    assert "damaged archive header" in _refused(zip_bytes) or "must start with CERT.json" in _refused(
        zip_bytes
    )
    assert _refused(b"").startswith("is truncated")


def test_a_failed_extract_leaves_nothing_behind(package, tmp_path):
    data, _, _ = package
    at = _offsets(data)["12345678/www/js/app.js"]  # the last file: the others were written first
    dest = tmp_path / "installed" / "out"
    with pytest.raises(amr.AmrError):
        amr.extract_verified(io.BytesIO(_flip(data, at)), _public(), dest)
    assert not dest.exists()
    assert list((tmp_path / "installed").iterdir()) == []  # no staging folder left either


def test_extract_refuses_a_non_empty_destination(package, tmp_path):
    data, _, _ = package
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "old.txt").write_text("x")
    with pytest.raises(ValueError):
        amr.extract_verified(io.BytesIO(data), _public(), tmp_path / "d")


def test_a_signed_manifest_with_an_unsafe_path_is_still_refused(tmp_path):
    # even a correctly signed manifest cannot make the client write outside dest_dir
    manifest = {
        "format": "mds-amr/1",
        "h5Id": "12345678",
        "version": "1",
        "files": [{"path": "../evil.sh", "size": 1, "sha256": hashlib.sha256(b"x").hexdigest()}],
    }
    body = amr.canonical_json(manifest)
    data = (
        _tar_entry("CERT.json", body)
        + _tar_entry("CERT.json.sig", rsa_keys.sign(_key(), body))
        + _tar_entry("12345678/../evil.sh", b"x")
        + b"\0" * 1024
    )
    with pytest.raises(amr.AmrError) as err:
        amr.extract_verified(io.BytesIO(data), _public(), tmp_path / "d")
    assert err.value.rule == "manifest lists an unsafe path '../evil.sh'"
    assert not (tmp_path / "evil.sh").exists()


def test_a_signed_manifest_with_a_file_that_is_also_a_folder_is_refused(tmp_path):
    digest = hashlib.sha256(b"x").hexdigest()
    manifest = {
        "format": "mds-amr/1",
        "h5Id": "12345678",
        "version": "1",
        "files": [
            {"path": "www", "size": 1, "sha256": digest},
            {"path": "www/a.js", "size": 1, "sha256": digest},
        ],
    }
    body = amr.canonical_json(manifest)
    data = (
        _tar_entry("CERT.json", body)
        + _tar_entry("CERT.json.sig", rsa_keys.sign(_key(), body))
        + b"\0" * 1024
    )
    with pytest.raises(amr.AmrError) as err:
        amr.extract_verified(io.BytesIO(data), _public(), tmp_path / "d")
    assert err.value.rule == "manifest lists 'www' as both a file and a folder"


def test_descriptor_has_the_documented_keys(package):
    _, built, _ = package
    doc = amr.descriptor(
        h5_id="12345678",
        version="1.0.0.1",
        resource_type="normal",
        vhost="h5app.com",
        main_url="/www/index.html",
        package_url="https://cdn.example.com/h5/12345678/1.0.0.1/12345678.amr",
        build=built,
        client_ranges={"ios": {"min": "10.1.32", "max": ""}, "android": {"min": "10.2.0", "max": None}},
        extend_info={"asyncReqRate": "1800"},
        download_network=0,
        install_type=1,
    )
    assert doc == {
        "format": "mds-h5/1",
        "h5Id": "12345678",
        "version": "1.0.0.1",
        "resourceType": "normal",
        "vhost": "h5app.com",
        "vhostUrl": "https://12345678.h5app.com",
        "mainUrl": "/www/index.html",
        "entryUrl": "https://12345678.h5app.com/www/index.html",
        "packageUrl": "https://cdn.example.com/h5/12345678/1.0.0.1/12345678.amr",
        "size": built.size,
        "fileCount": 4,
        "digest": {"sha256": built.sha256, "md5": built.md5},
        "signature": {
            "algorithm": "RSASSA-PKCS1-v1_5-SHA256",
            "keyId": built.key_id,
            "manifest": "CERT.json",
            "manifestSha256": built.manifest_sha256,
        },
        "clientRanges": {"android": {"min": "10.2.0", "max": ""}, "ios": {"min": "10.1.32", "max": ""}},
        "extendInfo": {"asyncReqRate": "1800"},
        "downloadNetwork": 0,
        "installType": 1,
    }
    json.dumps(doc)  # serialisable as it is


# ------------------------------------------------------------------------------------------ diff packages


def _versions(tmp_path):
    v1 = h5_zips.normal(tmp_path / "v1.zip", extra={"12345678/www/old.js": b"gone in v2"})
    v2_files = {
        **h5_zips.normal_files(version="2"),  # index.html and app.js change
        "12345678/www/new.js": b"added in v2",
    }
    v2 = h5_zips.write_zip(tmp_path / "v2.zip", v2_files)
    old, _, _ = _build(v1, version="1.0.0.1")
    new, new_build, _ = _build(v2, version="1.0.0.2")
    return old, new, new_build, v2_files


def _diff(old: bytes, new: bytes, key=None) -> tuple[bytes, amr.AmrBuild]:
    out = io.BytesIO()
    built = amr.build_diff(io.BytesIO(old), io.BytesIO(new), out, private_key=key or _key())
    return out.getvalue(), built


def test_diff_ships_only_changed_files_and_lists_removed_ones(tmp_path):
    old, new, new_build, _ = _versions(tmp_path)
    data, built = _diff(old, new)
    assert [m.name for m in _members(data)] == [
        "CERT.json",
        "CERT.json.sig",
        "12345678/www/index.html",
        "12345678/www/js/app.js",
        "12345678/www/new.js",
    ]
    assert built.file_count == 3
    assert built.sha256 == hashlib.sha256(data).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        manifest = json.loads(tar.extractfile("CERT.json").read())
    assert manifest["format"] == "mds-amr-diff/1"
    assert manifest["version"] == "1.0.0.2"
    assert manifest["removed"] == ["www/old.js"]
    old_head = amr.read_head(io.BytesIO(old), _public())
    assert manifest["base"] == {"version": "1.0.0.1", "manifestSha256": old_head.manifest_sha256}
    assert manifest["target"]["manifestSha256"] == new_build.manifest_sha256
    assert len(data) < len(new)


def test_apply_diff_gives_exactly_the_new_version(tmp_path):
    old, new, _, v2_files = _versions(tmp_path)
    data, built = _diff(old, new)
    installed = tmp_path / "installed-v1"
    amr.extract_verified(io.BytesIO(old), _public(), installed)
    result = amr.apply_diff(
        installed, io.BytesIO(data), _public(), tmp_path / "v2", expected_sha256=built.sha256
    )
    assert result.is_diff and result.version == "1.0.0.2" and result.removed == ("www/old.js",)
    written = {
        p.relative_to(tmp_path / "v2").as_posix(): p.read_bytes()
        for p in (tmp_path / "v2").rglob("*")
        if p.is_file()
    }
    assert written == {k.split("/", 1)[1]: v for k, v in v2_files.items() if not k.endswith("/")}
    # the same as installing the full new package
    amr.extract_verified(io.BytesIO(new), _public(), tmp_path / "full-v2")
    assert written == {
        p.relative_to(tmp_path / "full-v2").as_posix(): p.read_bytes()
        for p in (tmp_path / "full-v2").rglob("*")
        if p.is_file()
    }
    assert (installed / "www" / "old.js").exists()  # the installed version is untouched


def test_apply_diff_refuses_a_different_installed_version(tmp_path):
    old, new, _, _ = _versions(tmp_path)
    data, _ = _diff(old, new)
    installed = tmp_path / "installed"
    amr.extract_verified(io.BytesIO(old), _public(), installed)
    (installed / "www" / "css" / "app.css").write_bytes(b"locally changed")
    with pytest.raises(amr.AmrError) as err:
        amr.apply_diff(installed, io.BytesIO(data), _public(), tmp_path / "v2" / "out")
    assert (
        err.value.rule
        == "installed file 'www/css/app.css' is not the one of base version 1.0.0.1; install the full package"
    )
    assert list((tmp_path / "v2").iterdir()) == []
    (installed / "www" / "css" / "app.css").unlink()
    with pytest.raises(amr.AmrError) as err:
        amr.apply_diff(installed, io.BytesIO(data), _public(), tmp_path / "v2" / "out")
    assert err.value.rule == "installed file 'www/css/app.css' is missing; install the full package"


def test_tampered_diffs_are_refused(tmp_path):
    old, new, _, _ = _versions(tmp_path)
    data, _ = _diff(old, new)
    installed = tmp_path / "installed"
    amr.extract_verified(io.BytesIO(old), _public(), installed)
    offsets = _offsets(data)
    for at, expected in (
        (offsets["12345678/www/new.js"] + 2, "file 'www/new.js' does not match its SHA-256 in the manifest"),
        (
            offsets["CERT.json"] + 30,
            "signature of CERT.json does not match the public key; do not install it",
        ),
    ):
        with pytest.raises(amr.AmrError) as err:
            amr.apply_diff(installed, io.BytesIO(_flip(data, at)), _public(), tmp_path / "out")
        assert err.value.rule == expected
        assert not (tmp_path / "out").exists()
    # a diff is not a full package, nor the other way round
    assert _refused(data) == "CERT.json format is not mds-amr/1"
    with pytest.raises(amr.AmrError) as err:
        amr.apply_diff(installed, io.BytesIO(new), _public(), tmp_path / "out")
    assert err.value.rule == "CERT.json format is not mds-amr-diff/1"


def test_a_signed_diff_cannot_ship_a_file_the_target_does_not_list(tmp_path):
    old, new, _, _ = _versions(tmp_path)
    data, _ = _diff(old, new)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        manifest = json.loads(tar.extractfile("CERT.json").read())
    manifest["files"].append({"path": "www/zz.js", "size": 1, "sha256": hashlib.sha256(b"x").hexdigest()})
    body = amr.canonical_json(manifest)
    forged = (
        _tar_entry("CERT.json", body)
        + _tar_entry("CERT.json.sig", rsa_keys.sign(_key(), body))
        + b"\0" * 1024
    )
    with pytest.raises(amr.AmrError) as err:
        amr.apply_diff(tmp_path, io.BytesIO(forged), _public(), tmp_path / "out")
    assert err.value.rule == "diff ships 'www/zz.js', which the target manifest does not list as is"


def test_build_diff_refuses_packages_of_different_apps_or_keys(tmp_path):
    old, new, _, _ = _versions(tmp_path)
    other = h5_zips.normal(tmp_path / "o.zip", h5_id="87654321")
    with open(other, "rb") as f:
        report = h5zip.inspect(
            f, h5_id="87654321", resource_type="normal", tenant_app_id="A", workspace_id="w"
        )
        out = io.BytesIO()
        amr.build(f, report, out, private_key=_key(), descriptor_fields={"version": "1"})
    with pytest.raises(amr.AmrError) as err:
        _diff(out.getvalue(), new)
    assert err.value.rule == "diff between different H5 apps (87654321 and 12345678)"
    with pytest.raises(amr.AmrError) as err:
        _diff(old, new, key=rsa_keys.generate_private_key())
    assert "signature of CERT.json does not match" in err.value.rule


@functools.cache
def _small_package() -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        return _build(h5_zips.normal(Path(tmp) / "p.zip"))[0]


def test_every_single_bit_change_anywhere_is_refused():
    # exhaustive over the whole package (8 KiB): headers, manifest, signature, files, padding, end blocks
    package = _small_package()
    for at in range(len(package)):
        flip = 0x01 if at % 2 else 0x80
        tampered = package[:at] + bytes([package[at] ^ flip]) + package[at + 1 :]
        with pytest.raises(amr.AmrError):
            amr.verify(io.BytesIO(tampered), _public())


def test_changes_to_the_tar_checksum_field_are_refused():
    # the checksum field is not covered by the tar checksum; its NUL and space bytes are checked anyway
    package = _small_package()
    for at in (154, 155):
        for flip in (0x01, 0x20, 0xFF):
            tampered = package[:at] + bytes([package[at] ^ flip]) + package[at + 1 :]
            with pytest.raises(amr.AmrError) as err:
                amr.verify(io.BytesIO(tampered), _public())
            assert err.value.rule in (
                "has a non-canonical archive header for 'CERT.json'",
                "has a damaged archive header before CERT.json (invalid header)",
            )
