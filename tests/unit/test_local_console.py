"""Which files the local stack serves under /console/: the console's own, never anything outside it."""

from __future__ import annotations

from mds.local.console import CONSOLE_DIR, console_file


def test_console_paths_map_to_console_files():
    assert console_file("/console/") == CONSOLE_DIR / "index.html"
    assert console_file("/console") == CONSOLE_DIR / "index.html"
    assert console_file("/console/js/app.js?v=1") == CONSOLE_DIR / "js" / "app.js"
    assert console_file("/console/js/") is None  # a folder without index.html


def test_nothing_outside_the_console_dir_or_prefix_is_served(tmp_path):
    (tmp_path / "console").mkdir()
    (tmp_path / "console" / "index.html").write_text("hi")
    (tmp_path / "secret.txt").write_text("no")
    root = tmp_path / "console"
    assert console_file("/console/../secret.txt", root) is None
    assert console_file("/console/%2e%2e/secret.txt", root) is None
    assert console_file("/console/missing.js", root) is None
    assert console_file("/consolex/index.html", root) is None
    assert console_file("/api/health", root) is None
    assert console_file("/console/index.html", root) == root / "index.html"
