"""Whitelist contents: parsing rules and the published (salted-hash shard) form."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.whitelists import (
    ShardedMembership,
    decode_text,
    member_hash,
    parse_ids,
    published_shards,
)


def test_parse_ids_trims_dedupes_and_reports_lines():
    parsed = parse_ids("a, b,,\r\nb\n\n c \n" + "z" * 129 + "\nq\x7f")
    assert parsed.ids == ["a", "b", "c"]
    assert [(r.line, r.reason) for r in parsed.rejected] == [
        (5, "longer than 128 characters"),
        (6, "contains control characters"),
    ]


def test_decode_text_refuses_binary_and_accepts_bom():
    assert decode_text("\ufeffa\nb".encode("utf-8")) == "a\nb"
    with pytest.raises(ValidationError, match="NUL"):
        decode_text(b"a\x00b")
    with pytest.raises(ValidationError, match="UTF-8"):
        decode_text(b"\xff\xfe\xfa")


@given(
    members=st.sets(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20),
        max_size=60,
    ),
    strangers=st.lists(st.text(min_size=1, max_size=20), max_size=20),
    salt=st.text(min_size=1, max_size=16),
)
def test_sharded_membership_equals_set_membership(members, strangers, salt):
    membership = ShardedMembership()
    membership.add_list("w", salt, published_shards(salt, sorted(members)))
    for user in list(members) + strangers:
        assert membership.contains("w", user) == (user in members)
    assert not membership.contains("other", next(iter(members), "x"))


def test_a_device_needs_only_its_shard():
    ids = [f"u{n}" for n in range(5000)]
    shards = published_shards("s", ids)
    h = member_hash("s", "u77")
    device = ShardedMembership()
    device.add_shard("w", "s", h[:2], shards[h[:2]])
    assert device.contains("w", "u77")
    assert max(len(v) for v in shards.values()) < 60  # ~5000/256 per shard
