"""The committed conformance kit is exactly what the generator writes: regenerating gives the same bytes,
so a change of semantics in the domain shows up as a diff of clients/conformance/vectors/ in review."""

from __future__ import annotations

import json

from clients.conformance import generate


def test_regenerating_the_kit_gives_byte_identical_files(tmp_path):
    written = generate.generate(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in generate.VECTORS.glob("*.json"))
    for path in written:
        committed = generate.VECTORS / path.name
        assert path.read_bytes() == committed.read_bytes(), (
            f"{committed} is stale: run `python -m clients.conformance.generate` and review the diff"
        )


def test_every_vector_file_names_its_schema_and_group():
    for path in generate.VECTORS.glob("*.json"):
        data = json.loads(path.read_text("utf-8"))
        assert data["schema"] == generate.KIT_SCHEMA and f"{data['group']}.json" == path.name
