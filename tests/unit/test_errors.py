"""The error tree's invariant check: ``present`` replaces ``assert`` in the Lambda code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from chalicelib.domain.errors import MdsError, ValidationError, present

ROOT = Path(__file__).resolve().parents[2]


def test_present_passes_a_value_through_and_calls_a_missing_one_our_bug():
    assert present(0, "a count") == 0  # falsy is present: only None is missing
    with pytest.raises(MdsError, match="internal error: the files of a ready resource is missing") as err:
        present(None, "the files of a ready resource")
    assert err.value.STATUS_CODE == 500 and not isinstance(err.value, ValidationError)


def test_no_assert_is_a_runtime_check_in_the_lambda_code():
    """``python -O`` strips asserts: an invariant the code relies on raises through ``present``."""
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in (ROOT / "chalicelib").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assert)
    ]
    assert not found, "\n".join(found)
