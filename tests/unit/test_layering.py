"""Dependencies point one way (docs/architecture.md, "Layers and the direction of dependencies"):
every "never" there is checked here, over every import of the code (lazy ones inside functions too)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_DOMAIN = ("boto3", "botocore", "pynamodb", "chalice", "cryptography", "pydantic")
AWS_SDKS = ("boto3", "botocore", "pynamodb")

# layer -> the layers of ours it never imports
NEVER = {
    "chalicelib.domain": ("chalicelib.api", "chalicelib.events", "chalicelib.services", "chalicelib.store",
                          "chalicelib.manifests", "chalicelib.packaging", "chalicelib.security", "mds"),
    "chalicelib.store": ("chalicelib.api", "chalicelib.events", "chalicelib.services", "chalicelib.manifests",
                         "mds"),
    "chalicelib.manifests": ("chalicelib.api", "chalicelib.events", "chalicelib.services", "mds"),
    "chalicelib.packaging": ("chalicelib.api", "chalicelib.events", "chalicelib.services", "chalicelib.store",
                             "chalicelib.manifests", "mds"),
    "chalicelib.security": ("chalicelib.api", "chalicelib.events", "chalicelib.services", "chalicelib.store",
                            "chalicelib.manifests", "mds"),
    "chalicelib.services": ("chalicelib.api", "chalicelib.events", "mds"),
    "chalicelib.api": ("chalicelib.events", "mds"),
    "chalicelib.events": ("chalicelib.api", "mds"),
}  # fmt: skip
# the reference device client runs on a phone: it knows what the CDN serves, not how the server works
DEVICE_MAY_IMPORT = ("chalicelib.domain", "chalicelib.manifests", "chalicelib.packaging", "chalicelib.security")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(module, names imported from it) for every import statement of ``path``, relative ones resolved."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            yield module, [alias.name for alias in node.names]


def _code(*tops: str) -> list[Path]:
    return [p for top in tops for p in (ROOT / top).rglob("*.py")]


def _within(name: str, layer: str) -> bool:
    return name == layer or name.startswith(layer + ".")


def _layer_of(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "chalicelib" else parts[0]


def test_domain_is_pure():
    for path in _code("chalicelib/domain"):
        for name, _ in _imports(path):
            assert name.split(".")[0] not in FORBIDDEN_IN_DOMAIN, f"{path.name} imports {name}"


def test_only_store_imports_aws_sdks():
    for path in _code("chalicelib"):
        if "store" in path.parts:
            continue
        for name, _ in _imports(path):
            assert name.split(".")[0] not in AWS_SDKS, f"{path} imports {name}"


@pytest.mark.parametrize("layer", sorted(NEVER))
def test_a_layer_never_imports_the_layers_above_it(layer):
    wrong = [
        f"{_module_name(path)} imports {name}"
        for path in _code(layer.replace(".", "/"))
        for name, _ in _imports(path)
        if any(_within(name, never) for never in NEVER[layer])
    ]
    assert not wrong, "\n".join(wrong)


def test_the_device_client_depends_on_what_a_phone_has():
    wrong = [
        f"{_module_name(path)} imports {name}"
        for path in _code("mds/device")
        for name, _ in _imports(path)
        if _within(name, "chalicelib") and not any(_within(name, ok) for ok in DEVICE_MAY_IMPORT)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_private_name_is_imported_from_another_layer():
    wrong = [
        f"{_module_name(path)} imports {name}.{imported}"
        for path in _code("chalicelib", "mds", "app.py")
        for name, names in _imports(path)
        for imported in names
        if imported.startswith("_") and not imported.startswith("__")
        and _within(name, _layer_of(name)) and name.split(".")[0] in ("chalicelib", "mds")
        and _layer_of(name) != _layer_of(_module_name(path))
    ]  # fmt: skip
    assert not wrong, "\n".join(wrong)


def _circles(graph: dict[str, set[str]]) -> list[str]:
    """Every node of ``graph`` that reaches itself, with one path that shows how."""
    found = []
    for start in sorted(graph):
        came_from: dict[str, str] = {}
        todo = [(start, nxt) for nxt in sorted(graph[start])]
        while todo:
            parent, node = todo.pop()
            if node in came_from:
                continue
            came_from[node] = parent
            if node == start:
                path, at = [start], parent
                while at != start:
                    path.append(at)
                    at = came_from[at]
                found.append(" -> ".join([start, *reversed(path[1:]), start]))
                break
            todo.extend((node, nxt) for nxt in sorted(graph.get(node, ())))
    return found


def test_the_layers_have_no_import_circle():
    graph: dict[str, set[str]] = {}
    for path in _code("chalicelib", "mds"):
        source = _layer_of(_module_name(path))
        for name, _ in _imports(path):
            if name.split(".")[0] in ("chalicelib", "mds") and _layer_of(name) != source:
                graph.setdefault(source, set()).add(_layer_of(name))
    circles = _circles(graph)
    assert not circles, "\n".join(circles)


def test_no_module_of_the_lambda_code_imports_itself_round_a_circle():
    """Module by module, lazy imports too (a lazy import hides a circle from Python, not from a reader)."""
    paths = _code("chalicelib")
    modules = {_module_name(path) for path in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        source = _module_name(path)
        for name, names in _imports(path):
            targets = {f"{name}.{n}" for n in names if f"{name}.{n}" in modules}
            if name in modules and len(targets) < len(names or [None]):
                targets.add(name)  # something other than a submodule comes from ``name`` itself
            graph.setdefault(source, set()).update(t for t in targets if t != source)
    circles = _circles(graph)
    assert not circles, "\n".join(circles)
