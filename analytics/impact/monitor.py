"""The yearly Communitymonitor Veiligheid: the scores of the initiatives that opted in, as a CSV
and a self-contained HTML report (charts embedded as PNG). Others never appear."""

from __future__ import annotations

import base64
import csv
import html
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.impact.config import LEVELS, impact_config
from analytics.impact.explain import criterion_line, figure, level_name
from analytics.impact.scoring import ImpactScore, score_initiatives
from analytics.names import month_abbreviation
from handlers.texts import text
from storage.models import Initiative

BAR = "#1f4e8c"
INK = "#222222"


@dataclass(frozen=True)
class MonitorEntry:
    """One opted-in initiative: its score at the end of the year and its level per month-end."""

    name: str
    municipality: str | None
    province: str | None
    score: ImpactScore
    monthly_levels: tuple[tuple[str, int], ...]  # ("2026-01", level) up to the year's end or now


def month_ends(year: int, now: datetime) -> list[tuple[str, datetime]]:
    """("2026-03", the moment March ends) for each month of `year` that has begun by `now`."""
    ends = []
    for month in range(1, 13):
        start = datetime(year, month, 1, tzinfo=UTC)
        if start >= now:
            break
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        ends.append((f"{year}-{month:02d}", min(end, now)))
    return ends


def build_monitor(session: Session, year: int, now: datetime) -> list[MonitorEntry]:
    """The opted-in initiatives, by name, scored at the end of `year` (or now, if earlier)."""
    initiatives = list(
        session.scalars(
            select(Initiative).where(Initiative.monitor_opt_in).order_by(Initiative.name)
        )
    )
    ids = [initiative.id for initiative in initiatives]
    ends = month_ends(year, now)
    if not ids or not ends:
        return []
    monthly = {label: score_initiatives(session, moment, ids) for label, moment in ends}
    final = monthly[ends[-1][0]]
    return [
        MonitorEntry(
            initiative.name,
            initiative.municipality,
            initiative.province,
            final[initiative.id],
            tuple((label, monthly[label][initiative.id].level) for label, _ in ends),
        )
        for initiative in initiatives
    ]


def write_csv(entries: list[MonitorEntry], path: Path) -> None:
    """One row per initiative: level, progress, each criterion's figure and whether it is met,
    and the level at each month-end."""
    criteria = [criterion.name for criterion in entries[0].score.criteria] if entries else []
    months = [label for label, _ in entries[0].monthly_levels] if entries else []
    header = ["initiative", "municipality", "province", "level", "progress"]
    header += [column for name in criteria for column in (name, f"{name}_met")]
    header += [f"level_{label}" for label in months]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for entry in entries:
            row: list[object] = [
                entry.name,
                entry.municipality or "",
                entry.province or "",
                entry.score.level,
                entry.score.progress,
            ]
            for criterion in entry.score.criteria:
                row += [round(criterion.value, 3), "yes" if criterion.met else "no"]
            row += [level for _, level in entry.monthly_levels]
            writer.writerow(row)


def _png(figure_: Figure) -> str:
    FigureCanvasAgg(figure_)
    buffer = io.BytesIO()
    figure_.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def levels_chart(entries: list[MonitorEntry], language: str) -> str:
    """How many initiatives sit at each level, as a base64 PNG."""
    counts = [sum(entry.score.level == level for entry in entries) for level in (0, *LEVELS)]
    chart = Figure(figsize=(6, 3), dpi=110)
    axes = chart.add_subplot()
    axes.bar([str(level) for level in (0, *LEVELS)], counts, color=BAR)
    axes.set_title(text("monitor_report_levels_chart", language), color=INK)
    axes.set_xlabel(text("monitor_report_level_axis", language))
    axes.set_ylabel(text("monitor_report_initiatives", language))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    chart.tight_layout()
    return _png(chart)


def trend_chart(entry: MonitorEntry, language: str) -> str:
    """The initiative's level at each month-end, as a base64 PNG."""
    labels = [month_abbreviation(int(label[5:]), language) for label, _ in entry.monthly_levels]
    chart = Figure(figsize=(6, 2.2), dpi=110)
    axes = chart.add_subplot()
    axes.step(labels, [level for _, level in entry.monthly_levels], where="mid", color=BAR)
    axes.set_ylim(-0.2, LEVELS[-1] + 0.2)
    axes.set_yticks([0, *LEVELS])
    axes.set_title(text("monitor_report_trend_chart", language), color=INK, fontsize=10)
    chart.tight_layout()
    return _png(chart)


def _entry_html(entry: MonitorEntry, language: str) -> str:
    score = entry.score
    place = ", ".join(part for part in (entry.municipality, entry.province) if part)
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(criterion_line(criterion, language)),
            figure(criterion.value, criterion.is_share),
            figure(criterion.threshold, criterion.is_share),
            text("monitor_report_yes" if criterion.met else "monitor_report_no", language),
        )
        for criterion in score.criteria
    )
    head = "".join(
        f"<th>{text(key, language)}</th>"
        for key in (
            "monitor_report_criterion",
            "monitor_report_value",
            "monitor_report_threshold",
            "monitor_report_met",
        )
    )
    level = text(
        "monitor_report_level", language, level=score.level, name=level_name(score.level, language)
    )
    return (
        f'<section class="initiative"><h2>{html.escape(entry.name)}</h2>'
        f'<p class="place">{html.escape(place)}</p>'
        f'<p class="level">{html.escape(level)}</p>'
        f"<p>{html.escape(text('monitor_report_progress', language, progress=score.progress))}</p>"
        f"<table><tr>{head}</tr>{rows}</table>"
        f'<img alt="" src="data:image/png;base64,{trend_chart(entry, language)}"></section>'
    )


def write_html(entries: list[MonitorEntry], year: int, path: Path, language: str = "nl") -> None:
    """A report that opens anywhere without other files: styles inline, charts as data URLs."""
    title = html.escape(text("monitor_report_title", language, year=year))
    if entries:
        end = entries[0].score.window_end.date().isoformat()
        intro = text(
            "monitor_report_intro", language, months=impact_config().window_months, end=end
        )
        body = (
            f"<p>{html.escape(intro)}</p>"
            f"<p>{html.escape(text('monitor_report_count', language, count=len(entries)))}</p>"
            f'<img alt="" src="data:image/png;base64,{levels_chart(entries, language)}">'
            + "".join(_entry_html(entry, language) for entry in entries)
        )
    else:
        body = f"<p>{html.escape(text('monitor_report_empty', language))}</p>"
    path.write_text(
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>"
        "body{font-family:sans-serif;max-width:52rem;margin:2rem auto;color:#222}"
        "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}"
        "section{border-top:2px solid #1f4e8c;margin-top:2rem}.level{font-size:1.2rem;font-weight:bold}"
        f"</style></head><body><h1>{title}</h1>{body}</body></html>",
        encoding="utf-8",
    )
