"""Bar charts as inline SVG, drawn on the server: no script, no CDN, readable when printed.

A chart is its numbers: the page shows the same `Chart` as a table beside the picture, for
screen readers and for anyone who wants the figure itself. The SVG is one `img` named by
its title and description; each bar carries its value (`data-value`, and a `<title>` that
pointing at it shows), so a test can read the picture's numbers back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# A phone's width first: text drawn at 13 units stays readable at a third of a 1280 screen.
WIDTH, HEIGHT = 480, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 8, 30, 30
# Two colours that stay apart in greyscale and for the common colour blindnesses.
COLOURS = ("#1f5fa8", "#d9822b")
MAX_LABELS = 6  # more bars than this: only every n-th one is labelled under the axis
TICKS = 4


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # None: no figure for that bar (e.g. a rate of nothing)


@dataclass(frozen=True)
class Chart:
    key: str  # unique on the page: ids of the title, description and table derive from it
    title: str
    description: str
    labels: Sequence[str]
    series: Sequence[Series]
    unit: str = ""  # "%" for rates (values already in percent)

    def show(self, value: float | None) -> str:
        """A value as the table and the bar's title both write it."""
        if value is None:
            return "—"
        if self.unit == "%":
            return f"{value:.1f}%"
        return f"{value:g}" if isinstance(value, float) else str(value)

    @property
    def top(self) -> float:
        """The axis' top: 100 for rates, else the largest value rounded up to a nice number."""
        if self.unit == "%":
            return 100.0
        largest = max((v for s in self.series for v in s.values if v is not None), default=0)
        return _nice_ceiling(float(largest))

    def svg(self) -> Markup:
        # Every text in it went through `escape` in `_draw`.
        return Markup(_draw(self))  # noqa: S704


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k (k ≥ 0) that is at least `value` (4 ticks divide it)."""
    if value <= TICKS:
        return float(TICKS)
    scale = 1.0
    while True:
        for step in (1.0, 2.0, 2.5, 5.0):
            if step * scale * TICKS >= value:
                return step * scale * TICKS
        scale *= 10


def _draw(chart: Chart) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    groups = max(len(chart.labels), 1)
    per_group = plot_w / groups
    bar_w = per_group * 0.8 / max(len(chart.series), 1)
    top = chart.top
    key = escape(chart.key)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{key}-title {key}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{key}-title">{escape(chart.title)}</title>',
        f'<desc id="{key}-desc">{escape(chart.description)}</desc>',
    ]
    for tick in range(TICKS + 1):
        mark = top * tick / TICKS
        y = TOP + plot_h - plot_h * tick / TICKS
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(chart.show(mark) if chart.unit else f'{mark:g}')}</text>"
        )
    every = -(-groups // MAX_LABELS)
    for i, label in enumerate(chart.labels):
        x0 = LEFT + i * per_group + per_group * 0.1
        for j, series in enumerate(chart.series):
            value = series.values[i] if i < len(series.values) else None
            height = 0.0 if value is None else plot_h * min(float(value), top) / top
            x, y = x0 + j * bar_w, TOP + plot_h - height
            tip = escape(f"{series.name}, {label}: {chart.show(value)}")
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                f'height="{height:.1f}" fill="{COLOURS[j % len(COLOURS)]}" '
                f'data-series="{escape(series.name)}" data-label="{escape(label)}" '
                f'data-value="{escape(chart.show(value))}"><title>{tip}</title></rect>'
            )
        if i % every == 0:
            cx = LEFT + (i + 0.5) * per_group
            parts.append(
                f'<text class="label" x="{cx:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    for j, series in enumerate(chart.series):
        x = LEFT + j * 180
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{COLOURS[j % len(COLOURS)]}"/>'
            f'<text class="legend" x="{x + 16}" y="16">{escape(series.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
