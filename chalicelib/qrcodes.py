"""QR codes of download links (segno: pure Python, no image library). Imported only where needed."""

from __future__ import annotations

import io


def _make(text: str):
    import segno

    return segno.make(text, error="m", micro=False)


def png(text: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    _make(text).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def svg(text: str, *, scale: int = 8) -> str:
    buffer = io.BytesIO()
    _make(text).save(buffer, kind="svg", scale=scale, border=4, xmldecl=False)
    return buffer.getvalue().decode("utf-8")
