"""Reading a chart's SVG back in tests: its bars as (series, label, value)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (the console's own output, in a test)


def bars(svg: str) -> list[ET.Element]:
    """The bars that carry a value (not the legend's swatches)."""
    return [r for r in parse(svg).iter(f"{SVG}rect") if r.get("data-series")]


def drawn(svg: str) -> list[tuple[str, str, str]]:
    return [
        (r.get("data-series", ""), r.get("data-label", ""), r.get("data-value", ""))
        for r in bars(svg)
    ]
