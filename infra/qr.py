"""QR codes drawn by segno on the server, as SVG: no image file on disk, no script, no third-party service."""

import io

import segno
from markupsafe import Markup

DARK, LIGHT = "#111", "#fff"


def qr_svg_document(text: str) -> bytes:
    """A standalone SVG file (served as image/svg+xml) of `text`, error correction M."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=8, border=2, dark=DARK, light=LIGHT, omitsize=True)
    return out.getvalue()


def qr_svg_inline(text: str, title: str) -> Markup:
    """The same code as an <svg> element inside a page, named for assistive technology (role img + <title>)."""
    svg = segno.make(text, error="m").svg_inline(scale=8, border=2, dark=DARK, light=LIGHT, omitsize=True, title=title)
    return Markup(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))
