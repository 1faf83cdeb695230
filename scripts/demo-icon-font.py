"""Make the demo blog's icon font (crawler/demo/site/blogg/typsnitt/ikoner.woff): two glyphs, drawn here.

An icon font is what a theme loads through @font-face and what replay loses first, so the
demo post needs one; this one is ours, with no licence to carry. The file is committed: run
this only to change it, with fontTools installed (pip install fonttools), from the repository:
    python scripts/demo-icon-font.py
"""

from __future__ import annotations

from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

FAMILY = "Agren ikoner"
OUT = Path(__file__).resolve().parent.parent / "crawler" / "demo" / "site" / "blogg" / "typsnitt" / "ikoner.woff"
EM = 1000


def wave() -> TTGlyphPen:
    """U+E001: a band of three waves (water by the embankment)."""
    pen = TTGlyphPen(None)
    pen.moveTo((60, 420))
    for x in (60, 360, 660):  # the top edge, left to right
        pen.qCurveTo((x + 75, 600), (x + 150, 420))
        pen.qCurveTo((x + 225, 240), (x + 300, 420))
    pen.lineTo((960, 260))
    for x in (660, 360, 60):  # the bottom edge, right to left
        pen.qCurveTo((x + 225, 80), (x + 150, 260))
        pen.qCurveTo((x + 75, 440), (x, 260))
    pen.closePath()
    return pen


def drop() -> TTGlyphPen:
    """U+E002: a raindrop."""
    pen = TTGlyphPen(None)
    pen.moveTo((500, 900))
    pen.qCurveTo((280, 600), (250, 350))
    pen.qCurveTo((250, 100), (500, 100))
    pen.qCurveTo((750, 100), (750, 350))
    pen.qCurveTo((720, 600), (500, 900))
    pen.closePath()
    return pen


def empty() -> TTGlyphPen:
    return TTGlyphPen(None)


def main() -> None:
    glyphs = {".notdef": empty(), "space": empty(), "wave": wave(), "drop": drop()}
    builder = FontBuilder(EM, isTTF=True)
    builder.setupGlyphOrder(list(glyphs))
    builder.setupCharacterMap({0x20: "space", 0xE001: "wave", 0xE002: "drop"})
    builder.setupGlyf({name: pen.glyph() for name, pen in glyphs.items()})
    builder.setupHorizontalMetrics({name: (EM if name in ("wave", "drop") else 500, 0) for name in glyphs})
    builder.setupHorizontalHeader(ascent=900, descent=-100)
    builder.setupNameTable({"familyName": FAMILY, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=900, sTypoDescender=-100, usWinAscent=900, usWinDescent=100)
    builder.setupPost()
    builder.font.flavor = "woff"
    builder.save(str(OUT))
    print(f"Wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
