"""Dependencies point one way: domain imports nothing of ours outside domain, and no AWS SDK."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_DOMAIN = ("boto3", "botocore", "pynamodb", "chalice", "cryptography", "pydantic")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_is_pure():
    for path in (ROOT / "chalicelib" / "domain").rglob("*.py"):
        for name in _imports(path):
            assert name.split(".")[0] not in FORBIDDEN_IN_DOMAIN, f"{path.name} imports {name}"
            if name.startswith("chalicelib"):
                assert name.startswith("chalicelib.domain"), f"{path.name} imports {name}"


def test_only_store_imports_aws_sdks():
    for path in (ROOT / "chalicelib").rglob("*.py"):
        if "store" in path.parts:
            continue
        for name in _imports(path):
            assert name.split(".")[0] not in ("boto3", "botocore", "pynamodb"), f"{path} imports {name}"
