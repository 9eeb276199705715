"""``services.products.WINGS`` is the one product list: every module that plugs into a shared mechanism
(an upload processor, a whitelist in-use check) is reachable from it, so a new one cannot be forgotten."""

from __future__ import annotations

import ast
from pathlib import Path

from chalicelib.services import products

SERVICES = Path(__file__).resolve().parents[2] / "chalicelib" / "services"


def _modules_where(found) -> set[str]:
    return {
        f"chalicelib.services.{path.stem}"
        for path in SERVICES.glob("*.py")
        if any(found(node) for node in ast.walk(ast.parse(path.read_text())))
    }


def _registers_a_processor(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "processor"
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "uploads"
    )  # fmt: skip


def test_every_module_with_an_upload_processor_is_registered():
    assert _modules_where(_registers_a_processor) == set(products.processor_modules())


def test_every_module_that_can_use_a_whitelist_is_asked_before_one_is_deleted():
    defines = _modules_where(lambda n: isinstance(n, ast.FunctionDef) and n.name == "using_whitelist")
    assert defines == set(products.whitelist_users())


def test_each_product_has_its_delivery_module():
    assert products.names()[:4] == ("upgrade", "config", "hotpatch", "h5")
    for name in products.names():
        assert callable(products.get(name).candidates)
