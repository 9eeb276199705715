"""Streaming validation of H5 package zips (chalicelib.packaging.h5zip) against valid and hostile zips."""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import ValidationError
from chalicelib.packaging import h5zip
from chalicelib.packaging.h5zip import Limits
from tests import h5_zips

DEFAULT_LIMITS = Limits()


def _inspect(path, *, resource_type="normal", h5_id=h5_zips.H5_ID, limits=DEFAULT_LIMITS):
    with open(path, "rb") as f:
        return h5zip.inspect(
            f,
            h5_id=h5_id,
            resource_type=resource_type,
            tenant_app_id=h5_zips.APP_ID,
            workspace_id=h5_zips.WORKSPACE,
            limits=limits,
        )


def _refused(path, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        _inspect(path, **kwargs)
    assert err.value.field == "file"
    return err.value


def test_accepts_a_normal_package_and_lists_its_files(tmp_path):
    report = _inspect(h5_zips.normal(tmp_path / "p.zip"))
    files = h5_zips.normal_files()
    assert report.h5_id == "12345678"
    assert report.resource_type == "normal"
    assert report.main_entry == "/www/index.html"
    assert report.resource_prefix == ""
    assert report.paths == ("www/index.html", "www/css/app.css", "www/js/app.js", "www/img/logo.png")
    for member in report.members:
        data = files[member.name]
        assert member.name == f"12345678/{member.path}"
        assert member.size == len(data)
        assert member.sha256 == hashlib.sha256(data).hexdigest()
        assert member.crc == zlib.crc32(data)
    assert report.total_size == sum(len(v) for v in files.values())


def test_accepts_a_global_package(tmp_path):
    report = _inspect(h5_zips.global_(tmp_path / "g.zip"), resource_type="global")
    assert report.main_entry is None
    assert report.resource_prefix == "mcube-prod.mpaascloud.com/ABCDEF1234567_default/"
    assert all(p.startswith(report.resource_prefix) for p in report.paths)
    assert len(report.members) == 3


def test_accepts_stored_members_and_ignores_macos_junk(tmp_path):
    files = {
        **h5_zips.normal_files(),
        "__MACOSX/12345678/._index.html": b"junk",
        "12345678/www/.DS_Store": b"junk",
    }
    report = _inspect(h5_zips.write_zip(tmp_path / "p.zip", files, method=zipfile.ZIP_STORED))
    assert set(report.ignored) == {"__MACOSX/12345678/._index.html", "12345678/www/.DS_Store"}
    assert "www/.DS_Store" not in report.paths
    assert len(report.members) == 4


def test_accepts_the_allowed_characters_and_exactly_100_characters(tmp_path):
    path = "www/" + "a" * 50 + "/" + "b" * 40 + "-_.~1.js"
    path = path[:100]
    assert len(path) == 100
    extra = {f"12345678/{path}": b"x", "12345678/www/A-Z_a.z~0-9.js": b"y"}
    report = _inspect(h5_zips.normal(tmp_path / "p.zip", extra=extra))
    assert path in report.paths


def test_accepts_zips_written_to_a_stream_with_data_descriptors(tmp_path):
    path = h5_zips.streamed(tmp_path / "s.zip")
    with zipfile.ZipFile(path) as archive:
        assert all(i.flag_bits & 0x08 for i in archive.infolist())
    report = _inspect(path)
    assert {m.path: m.sha256 for m in report.members} == {
        k.split("/", 1)[1]: hashlib.sha256(v).hexdigest()
        for k, v in h5_zips.normal_files().items()
        if not k.endswith("/")
    }


def test_accepts_5000_files(tmp_path):
    report = _inspect(h5_zips.many_files(tmp_path / "many.zip", 5000))
    assert len(report.members) == 5000


def test_accepts_a_package_with_no_folder_entries(tmp_path):
    files = {k: v for k, v in h5_zips.normal_files().items() if not k.endswith("/")}
    assert len(_inspect(h5_zips.write_zip(tmp_path / "p.zip", files)).members) == 4


@pytest.mark.parametrize("case", sorted(h5_zips.HOSTILE))
def test_refuses_every_hostile_zip_naming_the_rule(tmp_path, case):
    writer, words = h5_zips.HOSTILE[case]
    path = writer(tmp_path / f"{case}.zip")
    resource_type = "global" if case.startswith("global") else "normal"
    err = _refused(path, resource_type=resource_type)
    assert words in err.rule, err.rule


@pytest.mark.parametrize(
    ("case", "member"),
    [
        ("traversal_dotdot", "12345678/www/../../etc/passwd"),
        ("symlink", "12345678/www/link.js"),
        ("encrypted_flag", "12345678/www/js/app.js"),
        ("crc_corrupt", "12345678/www/data.txt"),
        ("url_encoding_needed", "12345678/www/img/my logo.png"),
        ("ratio_bomb", "12345678/www/zeros.bin"),
        ("duplicate_name", "12345678/www/js/app.js"),
    ],
)
def test_refusals_name_the_member(tmp_path, case, member):
    writer, _ = h5_zips.HOSTILE[case]
    assert repr(member) in _refused(writer(tmp_path / "z.zip")).rule


def test_exact_rules_for_the_layout(tmp_path):
    assert _refused(h5_zips.text_named_zip(tmp_path / "a.zip")).rule == "is not a zip archive"
    assert (
        _refused(h5_zips.wrong_top_folder(tmp_path / "b.zip")).rule
        == "top folder is 87654321; it must be the H5 ID 12345678"
    )
    assert (
        _refused(h5_zips.normal_without_index(tmp_path / "c.zip")).rule
        == "normal package has no 12345678/www/index.html; it is the main entry"
    )
    # a normal package inspected as global, and the other way round
    assert (
        "is not under 12345678/<domain>/ABCDEF1234567_default/"
        in _refused(h5_zips.normal(tmp_path / "d.zip"), resource_type="global").rule
    )
    assert "has no 12345678/www/index.html" in _refused(h5_zips.global_(tmp_path / "e.zip")).rule


def test_global_package_with_two_domains_is_refused(tmp_path):
    files = {**h5_zips.global_files(), **h5_zips.global_files(domain="other.example.com")}
    assert (
        "several domain folders"
        in _refused(h5_zips.write_zip(tmp_path / "g.zip", files), resource_type="global").rule
    )


def test_a_real_zip_bomb_is_refused(tmp_path):
    path = h5_zips.zip_bomb(tmp_path / "bomb.zip")  # 1.1 GiB of zeros in ~1 MiB
    assert path.stat().st_size < 5 * 1024 * 1024
    # its honest header already says too much: refused before anything is inflated
    err = _refused(path)
    assert err.rule == "expands to more than 1073741824 bytes (at member '12345678/www/zeros.bin')"
    # with a larger total limit, the ratio check stops it at the first chunk over 200:1
    err = _refused(path, limits=Limits(max_total_bytes=2 * 1024**3))
    assert "expands more than 200:1" in err.rule and "zip bomb" in err.rule


def test_total_expanded_size_is_checked_while_streaming(tmp_path):
    # ratio check off: only the total limit can stop this member, and its header size is honest
    path = h5_zips.ratio_bomb(tmp_path / "big.zip", expanded_mib=6)
    limits = Limits(max_total_bytes=5 * 1024 * 1024, max_ratio=10**9)
    assert "expands to more than 5242880 bytes" in _refused(path, limits=limits).rule


def test_total_size_is_checked_even_when_headers_lie_small(tmp_path):
    # the central directory says 10 bytes; streaming finds more and refuses it
    assert (
        "expands to more than the 10 bytes its header says"
        in _refused(h5_zips.lying_header(tmp_path / "l.zip")).rule
    )


def test_member_count_limit_is_configurable(tmp_path):
    path = h5_zips.many_files(tmp_path / "m.zip", 30)
    assert _refused(path, limits=Limits(max_members=20)).rule == "has 30 entries; at most 20 are allowed"
    assert len(_inspect(path, limits=Limits(max_members=30)).members) == 30


def test_central_directory_size_is_limited_before_it_is_parsed(tmp_path):
    path = h5_zips.normal(tmp_path / "p.zip")
    rule = _refused(path, limits=Limits(max_directory_bytes=100)).rule
    assert rule.startswith("has a central directory of ") and rule.endswith("bytes; at most 100 are allowed")


def test_path_length_limit_counts_the_path_below_the_top_folder(tmp_path):
    path = h5_zips.normal(tmp_path / "p.zip", extra={"12345678/www/" + "x" * 96 + ".js": b"x"})  # 103
    assert "is 103 characters; at most 100 are allowed" in _refused(path).rule


def test_small_highly_compressible_members_are_fine(tmp_path):
    # 1 MiB of zeros compresses ~1000:1 but stays under the 1 MiB floor of the ratio check
    path = h5_zips.normal(tmp_path / "p.zip", extra={"12345678/www/zeros.bin": b"\0" * (1024 * 1024)})
    assert "www/zeros.bin" in _inspect(path).paths


def test_needs_a_known_resource_type(tmp_path):
    with pytest.raises(ValidationError) as err:
        _inspect(h5_zips.normal(tmp_path / "p.zip"), resource_type="other")
    assert err.value.field == "resourceType"


def test_detect_h5_id_and_top_folders(tmp_path):
    with open(h5_zips.normal(tmp_path / "a.zip", h5_id="20171228"), "rb") as f:
        assert h5zip.detect_h5_id(f) == "20171228"
    with open(h5_zips.two_top_folders(tmp_path / "b.zip"), "rb") as f:
        assert h5zip.top_folders(f) == ("12345678", "87654321")
        with pytest.raises(ValidationError) as err:
            h5zip.detect_h5_id(f)
    assert err.value.rule == "has several top folders (12345678, 87654321); it must have one, the H5 ID"
    with open(h5_zips.write_zip(tmp_path / "c.zip", {"web/index.html": b"x"}), "rb") as f:
        with pytest.raises(ValidationError) as err:
            h5zip.detect_h5_id(f)
    assert err.value.rule == "top folder 'web' is not an 8-digit H5 ID"
    with pytest.raises(ValidationError) as err:
        h5zip.detect_h5_id(io.BytesIO(b"not a zip"))
    assert err.value.rule == "is not a zip archive"


def test_works_on_an_in_memory_file_too(tmp_path):
    data = h5_zips.normal(tmp_path / "p.zip").read_bytes()
    report = h5zip.inspect(
        io.BytesIO(data), h5_id="12345678", resource_type="normal", tenant_app_id="A", workspace_id="w"
    )
    assert len(report.members) == 4


_SAFE = "ABCXYZabcxyz0189-_.~"
_segment = st.text(alphabet=_SAFE, min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    segments=st.lists(_segment, min_size=1, max_size=4),
    bad=st.sampled_from(" %?#&+=@!$'()*,;:[]\"<>^`{|}é中"),
)
def test_url_safe_paths_pass_and_any_other_character_is_named(tmp_path, segments, bad):
    path = "www/p/" + "/".join(segments)  # under its own folder: no clash with the package's other files
    good = h5_zips.normal(tmp_path / "good.zip", extra={f"12345678/{path}": b"x"})
    assert path in _inspect(good).paths
    broken = path[:-1] + bad + path[-1]
    rule = _refused(h5_zips.normal(tmp_path / "bad.zip", extra={f"12345678/{broken}": b"x"})).rule
    assert "need URL-encoding" in rule and repr(bad)[1:-1] in rule
