"""Server-rendered SVG charts (pygal) for the compliance pages. No JavaScript, no ORM.

pygal's tooltip script is never referenced (``js=[]``) and the small inline config script it always
writes is removed, so the SVG holds no script at all. Pages embed the SVG as an image
(``<img src="data:image/svg+xml;base64,…">``): the portal's Content-Security-Policy allows ``data:``
images but no inline styles, and pygal styles its SVG with an inline ``<style>``, which the browser
applies inside an image. Every chart has a data table beside it, so the alt text is short.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pygal
from pygal.style import Style

# Colours with at least 4.5:1 contrast on white (WCAG 1.4.11 asks 3:1 for graphics).
COLOURS = ("#1f5aa6", "#a64b00", "#2e6b30", "#6a1b9a")

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1e2b3c",
    foreground_strong="#1e2b3c",
    foreground_subtle="#5b6472",
    opacity="1",
    opacity_hover="1",
    transition="0s",
    colors=COLOURS,
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    title_font_size=20,
    label_font_size=17,
    major_label_font_size=17,
    legend_font_size=16,
    value_font_size=14,
    tooltip_font_size=14,
)

_SCRIPT = re.compile(r"<script\b[^>]*(?:/>|>.*?</script>)", re.DOTALL)


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str

    @property
    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode("ascii")


def percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def count(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def _rotation(labels: Sequence[str]) -> int:
    """Tilt the x labels only when long ones would collide."""
    longest = max((len(str(label)) for label in labels), default=0)
    return 30 if len(labels) * longest > 60 else 0


def _config(**options) -> pygal.Config:
    config = pygal.Config()
    config.js = []  # never reference pygal's tooltip script
    config.style = STYLE
    config.width = 640
    config.height = 400
    config.margin = 16
    config.legend_at_bottom = True
    config.show_y_guides = True
    config.truncate_label = 30
    config.truncate_legend = 40
    config.no_data_text = ""
    for name, value in options.items():
        setattr(config, name, value)
    return config


def render(chart) -> str:
    svg = chart.render(is_unicode=True, disable_xml_declaration=True)
    return _SCRIPT.sub("", svg)


def _chart(
    kind,
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    formatter: Callable[[float | None], str],
    **options,
) -> Chart:
    title = str(title)  # lazy translations are not JSON for pygal
    if formatter is count:
        highest = max((v for values in series.values() for v in values if v is not None), default=0)
        step = max(1, math.ceil(highest / 6))
        options.setdefault("y_labels", list(range(0, int(highest) + step + 1, step)))
    config = _config(title=title, value_formatter=formatter, formatter=formatter, **options)
    config.legend_at_bottom_columns = min(3, max(1, len(series)))
    chart = kind(config)
    chart.x_labels = [str(label) for label in labels]
    for name, values in series.items():
        chart.add(str(name), list(values))
    if len(series) == 1:
        chart.show_legend = False
    return Chart(title=title, svg=render(chart))


def bar(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    rates: bool = False,
    horizontal: bool = False,
    x_title: str = "",
) -> Chart:
    """A bar chart; ``rates`` shows values (fractions) as percentages from 0 %."""
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    options: dict = {"range": (0, 1)} if rates and not any(v and v > 1 for s in series.values() for v in s) else {}
    if horizontal:
        # pygal draws the first label at the bottom: reverse, so the chart reads like its table.
        labels = list(reversed(labels))
        series = {name: list(reversed(values)) for name, values in series.items()}
        options["height"] = 160 + max(1, len(labels)) * (18 + 16 * len(series))
    else:
        options["x_label_rotation"] = _rotation(labels)
    if x_title:
        options["x_title"] = str(x_title)
    return _chart(kind, title, labels, series, formatter=percent if rates else count, min_scale=2, **options)


def line(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    rates: bool = False,
    x_title: str = "",
) -> Chart:
    """A line chart over time (weeks); ``rates`` shows fractions as percentages from 0 %."""
    options: dict = {"range": (0, 1)} if rates else {}
    if x_title:
        options["x_title"] = str(x_title)
    return _chart(
        pygal.Line,
        title,
        labels,
        series,
        formatter=percent if rates else count,
        x_label_rotation=_rotation(labels),
        dots_size=4,
        stroke_style={"width": 3},
        min_scale=2,
        **options,
    )
