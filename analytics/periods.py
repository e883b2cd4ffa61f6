"""Reporting periods: what a coordinator types after /trend, read as a current and a previous period.

Two kinds of period, so that both "how are we doing lately" and "what do I tell the wijkagent
about October" have an obvious spelling:

- Rolling periods are the last so many local days, today included, up to now: '' (the default,
  4 weeks), '4w', '4 weken', '10 dagen', 'week' (7 days), 'maand' (30 days), '3 maanden'
  (90 days), 'kwartaal' (91 days = 13 weeks), 'jaar' (365 days). The previous period is as
  many whole days just before. Whole days make spans people can read ('5 okt – 1 nov' after
  '7 sep – 4 okt'); that today has only partly happened (and that a DST day has 23 or 25
  hours) is what the exposure ratio in the statistics accounts for.
- Calendar periods follow the calendar in the local zone: '2026', 'oktober', 'okt 2026', 'q3',
  'q3 2026', 'deze week', 'vorige week' (Monday to Sunday), 'deze maand', 'vorige maand',
  'dit kwartaal', 'vorig jaar' and so on. The previous period is the calendar period before
  (September for October, 2025 for 2026). A month or quarter without a year is the most recent
  one that has begun. A calendar period still in progress is cut off now, and its previous
  period at the same date and time (2026 up to 1 Nov against 2025 up to 1 Nov), so that the
  seasons line up.

'sinds 1 mei' is a rolling period from that day (the most recent 1 May without a year) until now. English spellings ('4 weeks', 'last month',
'since 1 May', 'october') are read too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from analytics.names import day_name, month_name, span_name
from handlers.texts import text

DEFAULT_WEEKS = 4
MAX_DAYS = 3660  # ten years; longer asks are typos ('2000w'), and cost a full scan

_DAY_UNITS = {"d": "day", "dag": "day", "dagen": "day", "day": "day", "days": "day"}
_WEEK_UNITS = dict.fromkeys(("w", "wk", "wkn", "week", "weken", "weeks"), "week")
_MONTH_UNITS = dict.fromkeys(("m", "mnd", "maand", "maanden", "month", "months"), "month")
_QUARTER_UNITS = dict.fromkeys(("kw", "kwartaal", "kwartalen", "quarter", "quarters"), "quarter")
_YEAR_UNITS = dict.fromkeys(("j", "jr", "jaar", "jaren", "year", "years"), "year")
_UNITS = _DAY_UNITS | _WEEK_UNITS | _MONTH_UNITS | _QUARTER_UNITS | _YEAR_UNITS
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "quarter": 91, "year": 365}

_MONTHS = {
    **dict.fromkeys(("jan", "januari", "january"), 1),
    **dict.fromkeys(("feb", "febr", "februari", "february"), 2),
    **dict.fromkeys(("mrt", "maart", "mar", "march"), 3),
    **dict.fromkeys(("apr", "april"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("jun", "juni", "june"), 6),
    **dict.fromkeys(("jul", "juli", "july"), 7),
    **dict.fromkeys(("aug", "augustus", "august"), 8),
    **dict.fromkeys(("sep", "sept", "september"), 9),
    **dict.fromkeys(("okt", "oktober", "oct", "october"), 10),
    **dict.fromkeys(("nov", "november"), 11),
    **dict.fromkeys(("dec", "december"), 12),
}

# (unit, offset): 0 is the calendar period we are in, -1 the one before.
_CALENDAR_WORDS = {
    **dict.fromkeys(("deze week", "this week"), ("week", 0)),
    **dict.fromkeys(("vorige week", "last week"), ("week", -1)),
    **dict.fromkeys(("deze maand", "this month"), ("month", 0)),
    **dict.fromkeys(("vorige maand", "last month"), ("month", -1)),
    **dict.fromkeys(("dit kwartaal", "this quarter"), ("quarter", 0)),
    **dict.fromkeys(("vorig kwartaal", "vorige kwartaal", "last quarter"), ("quarter", -1)),
    **dict.fromkeys(("dit jaar", "this year"), ("year", 0)),
    **dict.fromkeys(("vorig jaar", "vorige jaar", "last year"), ("year", -1)),
}
_CALENDAR_MONTHS = {"month": 1, "quarter": 3, "year": 12}

_ROLLING = re.compile(r"(?:(?:afgelopen|laatste|past|last)\s+)?(\d+)?\s*([a-z]+)")
_YEAR = re.compile(r"([12]\d{3})")
_NAMED_MONTH = re.compile(r"([a-z]+)\.?(?:\s+([12]\d{3}))?")
_QUARTER = (
    re.compile(r"(?:q|kw?)(?P<quarter>[1-4])(?:\s+(?P<year>[12]\d{3}))?"),
    re.compile(r"(?P<year>[12]\d{3})\s*-?\s*(?:q|kw?)(?P<quarter>[1-4])"),
    re.compile(r"(?P<quarter>[1-4])e\s+kwartaal(?:\s+(?P<year>[12]\d{3}))?"),
)
_SHOWN_INPUT = 40  # characters of unreadable input quoted back
_SINCE = re.compile(r"(?:sinds|vanaf|since|from)\s+(.+)")
_DAY_MONTH = re.compile(r"(\d{1,2})(?:e|ste|de|st|nd|rd|th)?\s+([a-z]+)\.?(?:\s+([12]\d{3}))?")
_MONTH_DAY = re.compile(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?(?:\s+([12]\d{3}))?")
_NUMERIC_DAY = re.compile(r"(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{4}|\d{2}))?")
_ISO_DAY = re.compile(r"([12]\d{3})-(\d{1,2})-(\d{1,2})")


@dataclass(frozen=True)
class Period:
    """The stretch of time [start, end), stored in UTC, with a label for people."""

    start: datetime
    end: datetime
    label: str

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a Period needs aware datetimes")
        # UTC, because datetimes that share a zone are compared by wall clock, which is
        # wrong in the hour that repeats when summer time ends.
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))
        if self.end <= self.start:
            raise ValueError(f"a Period must end after it starts: {self.start} – {self.end}")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


class PeriodError(ValueError):
    """Text that names no period we can report on; str() is the reply for the coordinator."""


def parse_period(
    given: str, now: datetime, zone: ZoneInfo, language: str = "nl"
) -> tuple[Period, Period]:
    """The (current, previous) periods for what a coordinator typed after /trend."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    words = " ".join(given.lower().replace(",", " ").split()).strip(".!?")
    reader = _Reader(given.strip()[:_SHOWN_INPUT], now, zone, language)
    if not words:
        return reader.rolling(DEFAULT_WEEKS, "week")
    if words in _CALENDAR_WORDS:
        return reader.relative_calendar(*_CALENDAR_WORDS[words])
    if (match := _ROLLING.fullmatch(words)) and match[2] in _UNITS:
        return reader.rolling(int(match[1] or 1), _UNITS[match[2]])
    if match := _YEAR.fullmatch(words):
        return reader.months(int(match[1]), 1, 12)
    if (match := _NAMED_MONTH.fullmatch(words)) and match[1] in _MONTHS:
        month = _MONTHS[match[1]]
        year = int(match[2]) if match[2] else reader.latest_year(month, 1)
        return reader.months(year, month, 1)
    for pattern in _QUARTER:
        if match := pattern.fullmatch(words):
            month = 3 * int(match["quarter"]) - 2
            year = int(match["year"]) if match["year"] else reader.latest_year(month, 1)
            return reader.months(year, month, 3)
    if match := _SINCE.fullmatch(words):
        return reader.since(match[1])
    raise reader.unreadable()


@dataclass(frozen=True)
class _Reader:
    """Turns the pieces of a recognised spelling into periods, for one request."""

    given: str
    now: datetime
    zone: ZoneInfo
    language: str

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def unreadable(self) -> PeriodError:
        return PeriodError(text("trend_period_unreadable", self.language, given=self.given))

    def span(self, start: datetime, end: datetime) -> str:
        return span_name(start, end, self.zone, self.language)

    def too_long(self, days: float) -> None:
        if days > MAX_DAYS:
            raise PeriodError(text("trend_period_too_long", self.language, years=MAX_DAYS // 366))

    def rolling(self, count: int, unit: str) -> tuple[Period, Period]:
        if count < 1:
            raise self.unreadable()
        days = count * _UNIT_DAYS[unit]
        self.too_long(days)
        first = self.today - timedelta(days=days - 1)
        span = self.span(self.midnight(first), self.now)
        if count == 1:
            name = text(f"trend_unit_{unit}", self.language)
            label = text("trend_period_past_one", self.language, unit=name, span=span)
        else:
            name = text(f"trend_unit_{unit}s", self.language)
            label = text("trend_period_past_many", self.language, count=count, unit=name, span=span)
        return self.up_to_now(first, label)

    def since(self, words: str) -> tuple[Period, Period]:
        first = self.day(words)
        self.too_long((self.today - first).days + 1)
        label = text("trend_period_since", self.language, day=day_name(first, self.language))
        return self.up_to_now(first, label)

    def up_to_now(self, first: date, label: str) -> tuple[Period, Period]:
        """From local day `first` until now, against as many whole days just before."""
        start = self.midnight(first)
        if start >= self.now:  # a day still to come, or '1 dag' on the stroke of midnight
            raise PeriodError(text("trend_period_future", self.language, given=self.given))
        earlier = self.midnight(first - timedelta(days=(self.today - first).days + 1))
        previous = text("trend_period_before", self.language, span=self.span(earlier, start))
        return Period(start, self.now, label), Period(earlier, start, previous)

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.zone)

    def day(self, words: str) -> date:
        """The local day in 'sinds ...': '1 mei', 'mei 2026', '1-5', '2026-05-01', 'may 1st', '2025'."""
        day, month, year = 1, 0, ""
        if match := _YEAR.fullmatch(words):
            year, month = match[1], 1
        elif match := _ISO_DAY.fullmatch(words):
            year, month, day = match[1], int(match[2]), int(match[3])
        elif match := _NUMERIC_DAY.fullmatch(words):
            day, month, year = int(match[1]), int(match[2]), match[3] or ""
            year = f"20{year}" if len(year) == 2 else year
        elif (match := _DAY_MONTH.fullmatch(words)) and match[2] in _MONTHS:
            day, month, year = int(match[1]), _MONTHS[match[2]], match[3] or ""
        elif (match := _MONTH_DAY.fullmatch(words)) and match[1] in _MONTHS:
            day, month, year = int(match[2]), _MONTHS[match[1]], match[3] or ""
        elif (match := _NAMED_MONTH.fullmatch(words)) and match[1] in _MONTHS:
            month, year = _MONTHS[match[1]], match[2] or ""
        else:
            raise self.unreadable()
        try:
            return date(int(year) if year else self.latest_year(month, day), month, day)
        except ValueError:
            raise self.unreadable() from None

    def latest_year(self, month: int, day: int) -> int:
        """The year of the most recent `day` `month` that is not after today."""
        today = self.today
        return today.year if (month, day) <= (today.month, today.day) else today.year - 1

    def months(self, year: int, month: int, count: int) -> tuple[Period, Period]:
        first = date(year, month, 1)
        after = _add_months(first, count)
        if count == 12:
            name, previous_name = str(year), str(year - 1)
        elif count == 3:
            name, previous_name = (
                self.quarter_label(first),
                self.quarter_label(_add_months(first, -3)),
            )
        else:
            name, previous_name = self.month_label(first), self.month_label(_add_months(first, -1))
        return self.calendar(
            first, after, lambda moment: _add_months(moment, -count), name, previous_name
        )

    def month_label(self, first: date) -> str:
        month = month_name(first.month, self.language)
        return text("trend_period_month", self.language, month=month, year=first.year)

    def quarter_label(self, first: date) -> str:
        quarter = (first.month + 2) // 3
        return text("trend_period_quarter", self.language, quarter=quarter, year=first.year)

    def relative_calendar(self, unit: str, offset: int) -> tuple[Period, Period]:
        today = self.today
        if unit == "week":
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
            return self.calendar(
                monday,
                monday + timedelta(weeks=1),
                lambda moment: moment - timedelta(weeks=1),
                self.week_label(monday),
                self.week_label(monday - timedelta(weeks=1)),
                with_span=True,
            )
        count = _CALENDAR_MONTHS[unit]
        first = date(today.year, 1 + (today.month - 1) // count * count, 1)
        first = _add_months(first, offset * count)
        return self.months(first.year, first.month, count)

    def week_label(self, monday: date) -> str:
        return text("trend_period_week", self.language, week=monday.isocalendar().week)

    def calendar(
        self,
        first: date,
        after: date,
        back: Callable[[datetime], datetime],
        name: str,
        previous_name: str,
        *,
        with_span: bool = False,
    ) -> tuple[Period, Period]:
        """[first, after) in local days, against the calendar period `back` maps it onto."""
        start, end = datetime.combine(first, time()), datetime.combine(after, time())
        local_now = self.now.astimezone(self.zone).replace(tzinfo=None)
        if start >= local_now:
            raise PeriodError(text("trend_period_future", self.language, given=self.given))
        previous = (self.local(back(start)), self.local(back(end)))
        current = (self.local(start), self.local(end))
        if end > local_now:
            # In progress: cut both at the same point of their period, so the seasons line up.
            current = (current[0], self.now)
            previous = (previous[0], self.local(back(local_now)))
            name = self.partial_label(name, local_now)
            previous_name = self.partial_label(previous_name, back(local_now))
        elif with_span:
            name = f"{name} ({self.span(*current)})"
            previous_name = f"{previous_name} ({self.span(*previous)})"
        return Period(*current, name), Period(*previous, previous_name)

    def partial_label(self, name: str, until: datetime) -> str:
        day = day_name(until.date(), self.language, with_year=False)
        return text("trend_period_partial", self.language, period=name, day=day)

    def local(self, moment: datetime) -> datetime:
        return moment.replace(tzinfo=self.zone)


_Moment = TypeVar("_Moment", date, datetime)


def _add_months(moment: _Moment, months: int) -> _Moment:
    """The same day (or the month's last day) and time `months` later."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last))
