"""Versions: parsing, the total order, ranges, merging and segment cuts (chalicelib/domain/versions.py)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.versions import (
    Cut,
    RangeSet,
    Version,
    VersionRange,
    in_any_range,
    merge_ranges,
    segment_cuts,
    segment_index,
)

V = Version.parse

# ------------------------------------------------------------------------------------------ strategies

# Small pools so that equal-but-differently-written versions and shared prefixes come up often.
PARTS = ["0", "00", "1", "01", "2", "9", "10", "32", "4", "1a", "1A", "1b", "a", "beta", "0beta", "2a0"]
version_texts = st.lists(st.sampled_from(PARTS), min_size=1, max_size=4).map(".".join)
versions = version_texts.map(V)


@st.composite
def ranges(draw) -> VersionRange:
    low = draw(st.none() | versions)
    high = draw(st.none() | versions)
    if low is not None and high is not None and high < low:
        low, high = high, low
    low_inclusive, high_inclusive = draw(st.booleans()), draw(st.booleans())
    if low is not None and high is not None and low == high:
        low_inclusive = high_inclusive = True
    return VersionRange(low, high, low_inclusive, high_inclusive)


def naive_compare(a: str, b: str) -> int:
    """The documented order, written the slow, obvious way: pad with "0" parts, compare part by part
    by (leading number, lower-cased rest)."""

    def part_key(part: str) -> tuple[int, str]:
        digits = ""
        for ch in part:
            if not ch.isdigit():
                break
            digits += ch
        return (int(digits) if digits else 0, part[len(digits) :].lower())

    pa, pb = a.split("."), b.split(".")
    for x, y in itertools.zip_longest(pa, pb, fillvalue="0"):
        kx, ky = part_key(x), part_key(y)
        if kx != ky:
            return -1 if kx < ky else 1
    return 0


# ---------------------------------------------------------------------------------------------- parse


@pytest.mark.parametrize(
    ("smaller", "larger"),
    [
        ("10.1.4", "10.1.32"),  # numeric per part, not string order
        ("10.1.40", "10.2.0"),
        ("9.9", "10"),
        ("1", "1a"),  # a suffix sorts after the bare number
        ("1a", "1b"),
        ("1b", "2"),
        ("0", "beta"),  # a part without digits is 0 + text
        ("beta", "1"),
        ("1.0.alpha", "1.0.beta"),
        ("5.0.1.2", "5.0.1.10"),
    ],
)
def test_order_examples(smaller, larger):
    assert V(smaller) < V(larger)
    assert V(larger) > V(smaller)
    assert V(smaller) != V(larger)


@pytest.mark.parametrize(
    ("a", "b"),
    [("1.0", "1.0.0"), ("1", "1.0.0.0"), ("01.2", "1.02"), ("1A", "1a"), ("beta", "0beta"), (" 2.0 ", "2")],
)
def test_equal_versions(a, b):
    assert V(a) == V(b)
    assert hash(V(a)) == hash(V(b))
    assert V(a).canonical == V(b).canonical


def test_text_is_kept_and_canonical_is_shortest():
    assert str(V("10.1.0")) == "10.1.0"
    assert repr(V("10.1.0")) == "Version('10.1.0')"
    assert V("10.1.0").canonical == "10.1"
    assert V("0.0").canonical == "0"
    assert V("01.2A.0").canonical == "1.2a"


@pytest.mark.parametrize(
    ("text", "rule_part"),
    [
        ("", "dot-separated"),
        ("1..2", "dot-separated"),
        (".1", "dot-separated"),
        ("1.", "dot-separated"),
        ("1.0-beta", "dot-separated"),
        ("1.0+build", "dot-separated"),
        ("v 1", "dot-separated"),
        ("１.0", "dot-separated"),  # full-width digit: not ASCII
        ("1." + "9" * 19, "18 digits"),
        ("1." * 40 + "1", "64 characters"),
    ],
)
def test_invalid_versions_name_the_field(text, rule_part):
    with pytest.raises(ValidationError) as exc:
        Version.parse(text, "clientVersion")
    assert exc.value.field == "clientVersion"
    assert rule_part in exc.value.rule


def test_given_versions_stay_strict_while_reported_ones_drop_decoration():
    assert V("v10.2") == V("V10.2") == V("10.2") > V("1.0")  # a leading v before a digit is no part
    assert V("v.1") < V("1")  # a part without digits: 0 + "v"
    for text in ("10.2.0-beta", "10.2.0+build5"):
        with pytest.raises(ValidationError):
            Version.parse(text)
    assert Version.parse_reported("v10.2.0-beta+5") == V("10.2")
    with pytest.raises(ValidationError) as exc:
        Version.parse_reported("+5")
    assert exc.value.field == "clientVersion"


def test_non_string_is_rejected():
    with pytest.raises(ValidationError) as exc:
        Version.parse(10)
    assert exc.value.field == "version"


def test_leading_zeros_do_not_count_towards_the_digit_limit():
    assert V("0" * 30 + "7") == V("7")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12.1", "12.1"), ("12.0 beta 2", "12.0"), ("8.1.0_r3", "8.1.0"), ("R", None), ("", None), (None, None),
     ("v12.1", "12.1"), ("12.0-beta", "12.0"), ("v", None)],
)  # fmt: skip
def test_parse_lenient(text, expected):
    """OS versions: also a leading v is dropped (``v12`` → 12)."""
    result = Version.parse_lenient(text)
    assert (None if result is None else str(result)) == expected


# ------------------------------------------------------------------------------------------ properties


@given(version_texts, version_texts)
def test_order_matches_the_documented_padded_comparison(a, b):
    expected = naive_compare(a, b)
    va, vb = V(a), V(b)
    assert (va < vb, va == vb, va > vb) == (expected < 0, expected == 0, expected > 0)


@given(versions, versions, versions)
def test_total_order_consistent_with_equality(a, b, c):
    assert sum([a < b, a == b, a > b]) == 1  # trichotomy
    assert (a <= b) == (a < b or a == b)
    assert (a == b) == (hash(a) == hash(b)) or a != b  # equal → same hash
    if a == b:
        assert hash(a) == hash(b) and a.canonical == b.canonical
    if a <= b and b <= c:
        assert a <= c  # transitivity
    if a <= b and b <= a:
        assert a == b  # antisymmetry


@given(versions)
def test_text_and_canonical_parse_back_to_an_equal_version(v):
    assert V(str(v)) == v
    assert V(v.canonical) == v
    assert V(v.canonical).canonical == v.canonical


@given(st.lists(versions, min_size=1, max_size=8))
def test_sorting_is_stable_under_equal_versions(vs):
    ordered = sorted(vs)
    assert all(x <= y for x, y in itertools.pairwise(ordered))
    assert sorted(vs, key=lambda v: v.key) == ordered


# ---------------------------------------------------------------------------------------------- ranges


def test_ranges_are_inclusive_by_default():
    r = VersionRange(V("8.0"), V("12.0"))
    assert V("8") in r and V("12.0.0") in r and V("10.3") in r
    assert V("7.9") not in r and V("12.0.1") not in r


def test_exclusive_ends():
    below_five = VersionRange(None, V("5.0"), max_inclusive=False)
    assert V("4.9.9") in below_five and V("5") not in below_five
    after_one = VersionRange(V("1"), None, min_inclusive=False)
    assert V("1.0.0") not in after_one and V("1.0.0.1") in after_one


def test_unbounded_side_is_stored_inclusive():
    assert VersionRange(None, None, False, False) == VersionRange()
    assert VersionRange().contains(V("0"))


@pytest.mark.parametrize(
    ("low", "high", "kwargs", "field"),
    [
        ("12.0", "8.0", {}, "max"),
        ("2", "2", {"min_inclusive": False}, "max"),
        ("2", "2.0", {"max_inclusive": False}, "max"),
    ],
)
def test_bad_ranges(low, high, kwargs, field):
    with pytest.raises(ValidationError) as exc:
        VersionRange(V(low), V(high), **kwargs)
    assert exc.value.field == field


def test_single_version_range_is_allowed():
    r = VersionRange(V("9.2.1"), V("9.2.1"))
    assert V("9.2.1.0") in r and V("9.2.2") not in r


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("8.0-12.0", "8.0", "12.0"),
        ("9.2.1-9.2.1", "9.2.1", "9.2.1"),
        ("10.0-", "10.0", None),
        ("-2", None, "2"),
    ],
)
def test_parse_mpaas_dash_form(text, low, high):
    r = VersionRange.parse(text)
    assert (None if r.min is None else str(r.min), None if r.max is None else str(r.max)) == (low, high)


@pytest.mark.parametrize("text", ["8.0", "1-2-3", "12-8", "a b-1", 5])
def test_parse_dash_form_errors_name_the_field(text):
    with pytest.raises(ValidationError) as exc:
        VersionRange.parse(text, "rules[0].values[1]")
    assert exc.value.field == "rules[0].values[1]"


def test_from_json_paths():
    with pytest.raises(ValidationError) as exc:
        VersionRange.from_json({"min": "10", "max": "9"}, "clientVersions[1]")
    assert exc.value.field == "clientVersions[1].max"
    with pytest.raises(ValidationError) as exc:
        VersionRange.from_json({"min": "x..y"}, "clientVersions[0]")
    assert exc.value.field == "clientVersions[0].min"
    with pytest.raises(ValidationError) as exc:
        VersionRange.from_json({"min": "1", "maxInclusive": "yes"}, "r")
    assert exc.value.field == "r.maxInclusive"
    with pytest.raises(ValidationError) as exc:
        VersionRange.from_json({"low": "1"}, "r")
    assert exc.value.field == "r.low"
    with pytest.raises(ValidationError) as exc:
        VersionRange.from_json(7, "r")
    assert exc.value.field == "r"


@given(ranges())
def test_range_json_round_trip(r):
    assert VersionRange.from_json(r.to_json()) == r


def test_str():
    assert str(VersionRange(V("1"), V("2"), max_inclusive=False)) == "[1, 2)"
    assert str(VersionRange()) == "(-inf, +inf)"


# ------------------------------------------------------------------------------------- merging, cuts


def test_merge_examples():
    r = VersionRange
    assert merge_ranges([r(V("2"), V("3"), min_inclusive=False), r(V("1"), V("2"))]) == (r(V("1"), V("3")),)
    apart = [r(V("1"), V("2"), max_inclusive=False), r(V("2"), V("3"), min_inclusive=False)]
    assert merge_ranges(apart) == tuple(apart)
    assert merge_ranges([r(V("5"), None), r(V("1"), V("2")), r(V("1.5"), V("7"))]) == (r(V("1"), None),)
    assert merge_ranges([]) == ()


@given(st.lists(ranges(), max_size=6), st.lists(versions, max_size=10))
def test_merge_keeps_the_union_and_is_disjoint(rs, probes):
    merged = merge_ranges(rs)
    for v in probes:
        assert in_any_range(v, merged) == in_any_range(v, rs)
        assert (v in RangeSet(rs)) == in_any_range(v, rs)
    for a, b in itertools.pairwise(merged):
        assert a.upper_cut is not None and b.lower_cut is not None
        assert a.upper_cut < b.lower_cut  # sorted, and not even touching
    assert merge_ranges(merged) == merged


@given(st.lists(ranges(), max_size=6), versions, versions)
def test_versions_in_one_segment_get_the_same_answer_from_every_range(rs, a, b):
    cuts = segment_cuts(rs)
    assert list(cuts) == sorted(cuts) and len(set(cuts)) == len(cuts)
    if segment_index(a, cuts) == segment_index(b, cuts):
        for r in rs:
            assert r.contains(a) == r.contains(b)


def test_cuts_sit_around_their_version():
    v = V("3.1")
    assert Cut.below(v) < Cut.over(v)
    assert segment_index(v, [Cut.below(v)]) == 1
    assert segment_index(v, [Cut.over(v)]) == 0
    r = VersionRange(V("1"), V("2"), max_inclusive=False)
    assert r.lower_cut == Cut.below(V("1")) and r.upper_cut == Cut.below(V("2"))
    assert VersionRange().lower_cut is None and VersionRange().upper_cut is None
