"""Names people read in trend texts and charts: categories, weekdays, months, days and spans."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.texts import text
from nlp.labels import CATEGORIES


def category_name(category: str, language: str = "nl") -> str:
    """The category as people say it ("openbare ruimte"); unknown names are shown as they are."""
    if category in CATEGORIES:
        return text(f"trend_category_{category}", language)
    return category.replace("_", " ")


def weekday_name(weekday: int, language: str = "nl") -> str:
    """Monday is 0, as in `datetime.weekday()`."""
    return text("trend_weekdays", language).split()[weekday]


def month_name(month: int, language: str = "nl") -> str:
    return text("trend_months", language).split()[month - 1]


def month_abbreviation(month: int, language: str = "nl") -> str:
    return text("trend_months_short", language).split()[month - 1]


def day_name(day: date, language: str = "nl", *, with_year: bool = True) -> str:
    """'1 mei 2026' (or '1 mei')."""
    name = f"{day.day} {month_abbreviation(day.month, language)}"
    return f"{name} {day.year}" if with_year else name


def span_name(start: datetime, end: datetime, zone: ZoneInfo, language: str = "nl") -> str:
    """The local days that [start, end) touches: '1 – 15 okt 2026', '5 okt – 1 nov 2026'."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    if first == last:
        return day_name(first, language)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day} – {day_name(last, language)}"
    if first.year == last.year:
        return f"{day_name(first, language, with_year=False)} – {day_name(last, language)}"
    return f"{day_name(first, language)} – {day_name(last, language)}"
