"""The SVG charts: one accessible picture whose bars carry the numbers the table shows."""

from __future__ import annotations

import re

from services.console.charts import Chart, Series
from tests.console.svg import SVG, bars, drawn, parse


def _chart(**overrides: object) -> Chart:
    fields: dict[str, object] = {
        "key": "cases",
        "title": "Cases <per> week",
        "description": "The numbers are in the table.",
        "labels": ["W01", "W02", "W03"],
        "series": [Series("Cases", [3, 0, 12]), Series("Resolved", [1, None, 7])],
    }
    return Chart(**{**fields, **overrides})  # type: ignore[arg-type]


def test_the_svg_is_one_named_image_with_a_bar_per_value() -> None:
    chart = _chart()
    svg = parse(str(chart.svg()))

    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "cases-title cases-desc"
    assert svg.findtext(f"{SVG}title") == "Cases <per> week"  # escaped, and read back whole
    assert svg.findtext(f"{SVG}desc") == "The numbers are in the table."
    found = bars(str(chart.svg()))
    assert drawn(str(chart.svg())) == [
        ("Cases", "W01", "3"),
        ("Resolved", "W01", "1"),
        ("Cases", "W02", "0"),
        ("Resolved", "W02", "—"),
        ("Cases", "W03", "12"),
        ("Resolved", "W03", "7"),
    ]
    heights = {
        (b.get("data-series"), b.get("data-label")): float(b.get("height", "")) for b in found
    }
    assert heights[("Cases", "W03")] > heights[("Resolved", "W03")] > heights[("Cases", "W01")]
    assert heights[("Cases", "W02")] == heights[("Resolved", "W02")] == 0
    assert found[4].findtext(f"{SVG}title") == "Cases, W03: 12"


def test_the_axis_ends_at_a_round_number_above_the_largest_value() -> None:
    assert _chart().top == 20  # 12 → 20 (4 ticks of 5)
    assert _chart(series=[Series("n", [0, 0])]).top == 4
    assert _chart(series=[Series("n", [78])]).top == 80
    assert _chart(series=[Series("n", [401])]).top == 800
    assert _chart(series=[Series("n", [870.5])]).top == 1000


def test_rates_are_percent_on_a_fixed_axis() -> None:
    chart = _chart(series=[Series("Rate", [100.0, 66.7, None])], unit="%")

    assert chart.top == 100
    assert [chart.show(v) for v in (100.0, 66.7, None)] == ["100.0%", "66.7%", "—"]
    ticks = re.findall(r'class="tick"[^>]*>([^<]+)<', str(chart.svg()))
    assert ticks == ["0.0%", "25.0%", "50.0%", "75.0%", "100.0%"]


def test_many_bars_label_only_some_under_the_axis() -> None:
    labels = [f"W{n:02d}" for n in range(1, 54)]
    chart = _chart(labels=labels, series=[Series("Cases", list(range(53)))])

    shown = re.findall(r'class="label"[^>]*>([^<]+)<', str(chart.svg()))
    bars = re.findall(r'data-label="([^"]+)"', str(chart.svg()))

    assert bars == labels  # every bar is there
    assert 1 < len(shown) <= 6
    assert shown[0] == "W01"


def test_a_label_cannot_inject_markup() -> None:
    chart = _chart(labels=['<script>alert(1)</script>"'], series=[Series("x", [1])])

    assert "<script>" not in str(chart.svg())
    parse(str(chart.svg()))  # still well-formed
