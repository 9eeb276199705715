"""The small rules several products share: status moves, end-time text, free text, page-number paging."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import MissingParameter, ValidationError
from chalicelib.domain.paging import check_page, page_of
from chalicelib.domain.release_tasks import iso_time, parse_action
from chalicelib.domain.text import free_text


def test_status_moves_and_their_aliases():
    assert [parse_action(a) for a in ("pause", "resume", "continue", "end")] == [
        "pause",
        "resume",
        "resume",
        "end",
    ]
    for bad in ("stop", "", None, 1, "PAUSE"):
        with pytest.raises(ValidationError) as exc:
            parse_action(bad)
        assert exc.value.field == "action"


def test_end_times_are_utc_with_z():
    assert iso_time(None) is None
    assert iso_time(0) == "1970-01-01T00:00:00Z"
    assert iso_time(1_767_225_600) == "2026-01-01T00:00:00Z"


def test_free_text_trims_bounds_and_refuses_control_characters():
    assert free_text("memo", "  hi\nthere\t ", limit=20) == "hi\nthere"
    assert free_text("memo", None, limit=5) == free_text("memo", "   ", limit=5) == ""
    with pytest.raises(MissingParameter):
        free_text("name", " ", limit=5, required=True)
    for bad, rule in ((3, "must be a string"), ("abcdef", "at most 5"), ("a\x00b", "control")):
        with pytest.raises(ValidationError) as exc:
            free_text("memo", bad, limit=5)
        assert exc.value.field == "memo" and rule in str(exc.value)


def test_pages_slice_and_count_and_bad_pages_name_the_field():
    found = list(range(7))
    assert page_of(found, str, page=2, page_size=3) == {
        "items": ["3", "4", "5"], "total": 7, "page": 2, "pageSize": 3,
    }  # fmt: skip
    assert page_of(found, str, page=4, page_size=3)["items"] == []
    for page, size, field in ((0, 10, "page"), (True, 10, "page"), (1, 0, "pageSize"), (1, 101, "pageSize")):
        with pytest.raises(ValidationError) as exc:
            check_page(page, size, max_page_size=100)
        assert exc.value.field == field
    check_page(1, 100, max_page_size=100)
