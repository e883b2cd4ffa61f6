"""The trend as a picture a coordinator can read on a phone and forward to the wijkagent.

Drawn on a bare `Figure` with the Agg canvas: no pyplot, so no global figure registry, no
backend switching and nothing left behind between requests.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from analytics.names import category_name
from analytics.trend import NOTABLE_MIN_DIFFERENCE, CategoryChange, TrendReport
from handlers.texts import text

# A phone shows the picture about 390 points wide: at 6 inches a 14 pt label reads as 12 pt.
WIDTH = 6.0
DPI = 165  # 990 pixels wide: sharp on a phone, quick to draw and small to send
LEFT = 2.45  # inches of room for "▲ openbare ruimte" in bold
RIGHT = 0.3
MARGIN = 0.2  # around the title and the note
TITLE_LINE = 0.3
LEGEND = 0.7
ROW = 0.6  # per category
NOTE_LINE = 0.17
TITLE_CHARACTERS = 42  # per line, at the title's size and this width
NOTE_CHARACTERS = 88
MAX_INITIATIVE = 60  # characters of the initiative's name

CURRENT = "#1f4e8c"
PREVIOUS = "#b9c3d0"
RISE = "#c0392b"
FALL = "#1e8449"
INK = "#222222"
MUTED = "#666666"
BAR = 0.38  # of a row, for each of the two bars


def _wrap(words: str, limit: int) -> list[str]:
    """Lines of at most `limit` characters, as even as possible, so no word is left alone."""
    lines = textwrap.wrap(words, limit)
    width = -(-len(words) // len(lines))
    while len(even := textwrap.wrap(words, width)) > len(lines):
        width += 1
    return even


def _row_label(change: CategoryChange, language: str) -> tuple[str, str, str]:
    name = category_name(change.category, language)
    if change.notable and change.direction == "up":
        return f"▲ {name}", RISE, "bold"
    if change.notable and change.direction == "down":
        return f"▼ {name}", FALL, "bold"
    return name, INK, "normal"


def render_trend_chart(report: TrendReport, language: str = "nl") -> bytes:
    """PNG: incidents per category, current against previous period, notable changes marked."""
    name = report.initiative
    if len(name) > MAX_INITIATIVE:
        name = name[: MAX_INITIATIVE - 1] + "…"
    title = _wrap(text("trend_chart_title", language, initiative=name), TITLE_CHARACTERS)
    note = text("trend_chart_note", language, minimum=NOTABLE_MIN_DIFFERENCE)
    note_lines = _wrap(note, NOTE_CHARACTERS) if report.per_category else []
    rows = max(len(report.per_category), 1)
    top = MARGIN + TITLE_LINE * len(title) + LEGEND
    bottom = MARGIN + NOTE_LINE * len(note_lines) + 0.15
    height = top + ROW * rows + bottom

    figure = Figure(figsize=(WIDTH, height), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    figure.text(
        0.035,
        1 - MARGIN * 0.75 / height,
        "\n".join(title),
        va="top",
        fontsize=15,
        weight="bold",
        linespacing=1.2,
    )
    figure.legend(
        handles=[
            Patch(color=CURRENT, label=report.current.label),
            Patch(color=PREVIOUS, label=report.previous.label),
        ],
        loc="upper left",
        bbox_to_anchor=(0.025, 1 - (MARGIN + TITLE_LINE * len(title)) / height),
        frameon=False,
        fontsize=12,
        handlelength=1.2,
        borderaxespad=0,
        labelspacing=0.35,
    )
    figure.text(0.035, MARGIN * 0.6 / height, "\n".join(note_lines), fontsize=8.5, color=MUTED)

    # No x axis: every bar carries its number, which reads better on a phone than a scale.
    axes = figure.add_axes(
        (LEFT / WIDTH, bottom / height, 1 - (LEFT + RIGHT) / WIDTH, ROW * rows / height)
    )
    if report.per_category:
        _draw_bars(axes, report.per_category, language)
    else:
        axes.set_axis_off()
        figure.text(
            0.5,
            (bottom + ROW / 2) / height,
            text("trend_chart_empty", language),
            ha="center",
            va="center",
            fontsize=13,
            color=MUTED,
        )
    buffer = io.BytesIO()
    # Light compression: a good deal faster to write, for a somewhat bigger file (~100 kB).
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _draw_bars(axes: Axes, changes: Sequence[CategoryChange], language: str) -> None:
    positions = range(len(changes))
    axes.barh([y - BAR / 2 for y in positions], [c.current for c in changes], BAR, color=CURRENT)
    axes.barh([y + BAR / 2 for y in positions], [c.previous for c in changes], BAR, color=PREVIOUS)
    highest = max(max(change.current, change.previous) for change in changes)
    axes.set_xlim(0, highest * 1.14 + 0.6)
    axes.set_ylim(len(changes) - 0.5, -0.5)  # the busiest category on top
    offset = highest * 0.015 + 0.05
    for y, change in zip(positions, changes, strict=True):
        axes.text(
            change.current + offset,
            y - BAR / 2,
            str(change.current),
            va="center",
            fontsize=12,
            weight="bold",
            color=CURRENT,
        )
        axes.text(
            change.previous + offset,
            y + BAR / 2,
            str(change.previous),
            va="center",
            fontsize=11,
            color=MUTED,
        )
    axes.axvline(0, color=MUTED, linewidth=0.8)
    for side in axes.spines.values():
        side.set_visible(False)
    axes.xaxis.set_visible(False)
    axes.tick_params(axis="y", length=0, pad=8)
    labels = [_row_label(change, language) for change in changes]
    axes.set_yticks(list(positions), [label for label, _, _ in labels], fontsize=14)
    for tick, (_, colour, weight) in zip(axes.get_yticklabels(), labels, strict=True):
        tick.set_color(colour)
        tick.set_fontweight(weight)
