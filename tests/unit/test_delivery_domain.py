"""The one decision: ``decide`` (first applying candidate) and ``decide_each`` (once per subject)."""

from __future__ import annotations

import pytest

from chalicelib.domain.delivery import (
    Candidate,
    NeedsServer,
    PlaceRequest,
    decide,
    decide_each,
    place_request,
)
from chalicelib.domain.targeting import Device, compile_target, parse_target

ANY = compile_target(parse_target({}))
SHANGHAI = compile_target(parse_target({"rules": [{"type": "city", "operation": 1, "values": ["Shanghai"]}]}))
DEVICE = Device("android", user_id="u1", client_version="1.0", city="Beijing")


def test_decide_returns_the_first_applying_candidate():
    local, default = Candidate("local", SHANGHAI), Candidate("default", ANY)
    assert decide([local, default], DEVICE, None, now=0) is default
    assert decide([local, default], Device("android", city="Shanghai"), None, now=0) is local


def test_decide_each_decides_once_per_subject_in_priority_order():
    candidates = [
        Candidate("a-local", SHANGHAI, subject="a"),
        Candidate("a-default", ANY, subject="a"),
        Candidate("b-only-shanghai", SHANGHAI, subject="b"),
        Candidate("c-first", ANY, subject="c"),
        Candidate("c-second", ANY, subject="c"),
    ]
    chosen = decide_each(candidates, DEVICE, None, now=0)
    assert {s: c.id for s, c in chosen.items()} == {"a": "a-default", "c": "c-first"}


def test_expired_candidates_are_skipped_and_dynamic_ones_need_the_server_or_a_claim():
    expired = Candidate("old", ANY, subject="a", not_after=100)
    window = Candidate("window", ANY, subject="a", dynamic=True)
    assert decide_each([expired], DEVICE, None, now=99)["a"] is expired
    assert decide_each([expired], DEVICE, None, now=100) == {}
    with pytest.raises(NeedsServer) as raised:
        decide_each([expired, window], DEVICE, None, now=100)
    assert raised.value.candidate is window
    assert decide_each([window], DEVICE, None, now=0, claim=lambda c: False) == {}
    assert decide_each([window], DEVICE, None, now=0, claim=lambda c: True) == {"a": window}


def test_subject_survives_the_json_round_trip_and_is_omitted_when_empty():
    with_subject = Candidate("x", ANY, {"v": 1}, subject="feed_v2")
    assert Candidate.from_json(with_subject.to_json()) == with_subject
    assert "subject" not in Candidate("y", ANY).to_json()


def test_a_time_window_claim_asks_for_a_place_only_while_the_window_is_open_and_someone_can_be_counted():
    window = Candidate("upgrade-task-7", ANY, dynamic=True, not_after=2_000)
    assert place_request(Candidate("upgrade-task-8", ANY), DEVICE, now=1_000, prefix="upgrade-task-") is True
    assert place_request(window, DEVICE, now=1_000, prefix="upgrade-task-") == PlaceRequest("7", "u1", 2_000)
    by_device = Device("android", device_id="d9", client_version="1.0")
    assert place_request(window, by_device, now=1_000, prefix="upgrade-task-").identity == "d9"
    assert place_request(window, DEVICE, now=2_000, prefix="upgrade-task-") is False  # the window ended
    nobody = Device("android", client_version="1.0")
    assert place_request(window, nobody, now=1_000, prefix="upgrade-task-") is False
    with pytest.raises(ValueError, match="not a time-window task of 'h5-task-'"):
        place_request(window, DEVICE, now=1_000, prefix="h5-task-")
