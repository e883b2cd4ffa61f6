"""The trend in words: the /trend reply, and the one next step the weekly digest suggests."""

from __future__ import annotations

from collections.abc import Iterable

from analytics.names import category_name, weekday_name
from analytics.trend import CategoryChange, TrendReport
from handlers.texts import text
from nlp.labels import CATEGORIES

MOST_REPORTED = 3  # categories named in the "most reported" line; more does not fit a phone

# Below this share of incidents with feedback, asking partners for it is the next step; with
# fewer incidents than the minimum a low share is too likely to be chance to act on.
LOW_FOLLOW_UP_SHARE = 1 / 3
FOLLOW_UP_MIN_INCIDENTS = 5


def _incidents(count: int, language: str) -> str:
    if count == 0:
        return text("trend_incidents_none", language)
    if count == 1:
        return text("trend_incidents_one", language)
    return text("trend_incidents_many", language, count=count)


def _changes(changes: Iterable[CategoryChange], language: str) -> str:
    return ", ".join(
        text(
            "trend_change",
            language,
            category=category_name(change.category, language),
            current=change.current,
            previous=change.previous,
        )
        for change in changes
    )


def _busiest(report: TrendReport, language: str) -> str | None:
    day, hour = report.busiest_weekday, report.busiest_hour
    hours = text("trend_hours", language, start=hour, end=hour + 1) if hour is not None else ""
    if day is not None and hour is not None:
        return text(
            "trend_busiest_both", language, weekday=weekday_name(day, language), hours=hours
        )
    if day is not None:
        return text("trend_busiest_day", language, weekday=weekday_name(day, language))
    if hour is not None:
        return text("trend_busiest_hour", language, hours=hours)
    return None


def render_trend_text(report: TrendReport, language: str = "nl") -> str:
    """The /trend reply: short enough to read on a phone without scrolling much."""
    lines = [
        text("trend_headline", language, initiative=report.initiative, period=report.current.label)
    ]
    if report.total_current == 0 and report.total_previous == 0:
        lines.append(text("trend_nothing", language))
        return "\n".join(lines)
    totals = text(
        "trend_totals",
        language,
        incidents=_incidents(report.total_current, language),
        previous=report.total_previous,
        previous_period=report.previous.label,
    )
    lines.append(totals[:1].upper() + totals[1:])
    if report.total_current == 0:
        lines.append(text("trend_quiet", language))
    else:
        most = [change for change in report.per_category if change.current][:MOST_REPORTED]
        named = " · ".join(f"{category_name(c.category, language)} {c.current}" for c in most)
        lines.append(text("trend_most_reported", language, categories=named))
    if report.rises:
        lines.append(text("trend_rises", language, changes=_changes(report.rises, language)))
    if report.falls:
        lines.append(text("trend_falls", language, changes=_changes(report.falls, language)))
    if not (report.rises or report.falls):
        lines.append(text("trend_no_notable", language))
    if report.followed_up_share is not None:  # there were incidents
        lines.append(text("trend_urgent", language, count=report.urgent_current))
        lines.append(
            text(
                "trend_followed_up",
                language,
                followed=report.followed_up_current,
                total=report.total_current,
                percent=round(100 * report.followed_up_share),
            )
        )
        if busiest := _busiest(report, language):
            lines.append(busiest)
    return "\n".join(lines)


def suggested_next_step(report: TrendReport, language: str = "nl") -> str:
    """One concrete thing for the coordinators to do this week, the most pressing first."""
    if report.rises:
        rise = report.rises[0]
        key = (
            f"trend_next_rise_{rise.category}" if rise.category in CATEGORIES else "trend_next_rise"
        )
        return text(
            key,
            language,
            category=category_name(rise.category, language),
            current=rise.current,
            previous=rise.previous,
        )
    share = report.followed_up_share
    if (
        share is not None
        and share < LOW_FOLLOW_UP_SHARE
        and report.total_current >= FOLLOW_UP_MIN_INCIDENTS
    ):
        return text(
            "trend_next_follow_up",
            language,
            followed=report.followed_up_current,
            total=report.total_current,
        )
    if report.falls:
        fall = report.falls[0]
        return text(
            "trend_next_fall",
            language,
            category=category_name(fall.category, language),
            current=fall.current,
            previous=fall.previous,
        )
    if report.total_current == 0:
        return text("trend_next_quiet", language)
    return text("trend_next_share", language)
