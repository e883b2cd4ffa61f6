"""What a coordinator types after /trend, read as the current and the previous period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from analytics.periods import Period, PeriodError, parse_period
from handlers.texts import text

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Sunday 1 November 2026, 14:00 in Amsterdam; summer time ended a week earlier (25 October).
NOW = datetime(2026, 11, 1, 13, 0, tzinfo=UTC)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


def read(given: str, language: str = "nl") -> tuple[Period, Period]:
    return parse_period(given, NOW, AMSTERDAM, language)


def test_nothing_typed_means_the_last_four_weeks_up_to_now() -> None:
    current, previous = read("")
    assert (current.start, current.end) == (local(2026, 10, 5), NOW)
    assert (previous.start, previous.end) == (local(2026, 9, 7), local(2026, 10, 5))
    assert current.label == "afgelopen 4 weken (5 okt – 1 nov 2026)"
    assert previous.label == "de periode daarvoor (7 sep – 4 okt 2026)"


@pytest.mark.parametrize("given", ["4w", "4 weken", "Afgelopen 4 weken", "4 wkn", "4 weeks"])
def test_four_weeks_spelled_in_many_ways(given: str) -> None:
    assert read(given) == read("")


@pytest.mark.parametrize(
    ("given", "first_day", "label"),
    [
        ("2w", local(2026, 10, 19), "afgelopen 2 weken (19 okt – 1 nov 2026)"),
        ("week", local(2026, 10, 26), "afgelopen week (26 okt – 1 nov 2026)"),
        ("10 dagen", local(2026, 10, 23), "afgelopen 10 dagen (23 okt – 1 nov 2026)"),
        ("maand", local(2026, 10, 3), "afgelopen maand (3 okt – 1 nov 2026)"),
        ("3 maanden", local(2026, 8, 4), "afgelopen 3 maanden (4 aug – 1 nov 2026)"),
        ("kwartaal", local(2026, 8, 3), "afgelopen kwartaal (3 aug – 1 nov 2026)"),
        ("jaar", local(2025, 11, 2), "afgelopen jaar (2 nov 2025 – 1 nov 2026)"),
    ],
)
def test_rolling_periods_are_whole_days_up_to_now(
    given: str, first_day: datetime, label: str
) -> None:
    current, previous = read(given)
    assert (current.start, current.end, current.label) == (first_day, NOW, label)
    assert previous.end == first_day
    days = (first_day.date() - previous.start.astimezone(AMSTERDAM).date()).days
    assert days == (NOW.astimezone(AMSTERDAM).date() - first_day.date()).days + 1


def test_a_rolling_period_across_the_end_of_summer_time_is_an_hour_longer() -> None:
    _, previous = read("week")
    assert (previous.start, previous.end) == (local(2026, 10, 19), local(2026, 10, 26))
    assert previous.duration == timedelta(days=7, hours=1)


def test_a_calendar_year_in_progress_is_compared_up_to_the_same_day_last_year() -> None:
    current, previous = read("2026")
    assert (current.start, current.end) == (local(2026, 1, 1), NOW)
    assert (previous.start, previous.end) == (local(2025, 1, 1), local(2025, 11, 1, 14))
    assert (current.label, previous.label) == ("2026 t/m 1 nov", "2025 t/m 1 nov")


def test_a_past_calendar_year_is_compared_with_the_year_before() -> None:
    current, previous = read("2025")
    assert (current.start, current.end, current.label) == (
        local(2025, 1, 1),
        local(2026, 1, 1),
        "2025",
    )
    assert (previous.start, previous.end, previous.label) == (
        local(2024, 1, 1),
        local(2025, 1, 1),
        "2024",
    )
    assert previous.duration == timedelta(days=366)  # a leap year: the statistics weigh this


@pytest.mark.parametrize(
    "given", ["oktober", "okt", "okt 2026", "Oktober 2026", "october", "vorige maand"]
)
def test_a_month_by_name(given: str) -> None:
    current, previous = read(given)
    assert (current.start, current.end, current.label) == (
        local(2026, 10, 1),
        local(2026, 11, 1),
        "oktober 2026",
    )
    assert (previous.start, previous.end, previous.label) == (
        local(2026, 9, 1),
        local(2026, 10, 1),
        "september 2026",
    )


def test_a_month_without_a_year_is_the_most_recent_one() -> None:
    current, previous = read("december")
    assert (current.start, current.end, current.label) == (
        local(2025, 12, 1),
        local(2026, 1, 1),
        "december 2025",
    )
    assert previous.label == "november 2025"


def test_the_month_in_progress_is_compared_with_the_same_days_of_last_month() -> None:
    now = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)
    current, previous = parse_period("deze maand", now, AMSTERDAM)
    assert (current.start, current.end) == (local(2026, 3, 1), now)
    # February has no 31st: its last day at the same time.
    assert (previous.start, previous.end) == (local(2026, 2, 1), local(2026, 2, 28, 12))
    assert (current.label, previous.label) == ("maart 2026 t/m 31 mrt", "februari 2026 t/m 28 feb")


@pytest.mark.parametrize("given", ["q3", "Q3 2026", "2026-q3", "3e kwartaal", "kw3"])
def test_a_quarter(given: str) -> None:
    current, previous = read(given)
    assert (current.start, current.end, current.label) == (
        local(2026, 7, 1),
        local(2026, 10, 1),
        "3e kwartaal 2026",
    )
    assert (previous.start, previous.label) == (local(2026, 4, 1), "2e kwartaal 2026")


def test_the_first_quarter_is_compared_with_the_last_quarter_of_the_year_before() -> None:
    _, previous = read("q1 2026")
    assert (previous.start, previous.end, previous.label) == (
        local(2025, 10, 1),
        local(2026, 1, 1),
        "4e kwartaal 2025",
    )


def test_last_week_runs_monday_to_sunday() -> None:
    current, previous = read("vorige week")
    assert (current.start, current.end) == (local(2026, 10, 19), local(2026, 10, 26))
    assert current.label == "week 43 (19 – 25 okt 2026)"
    assert previous.label == "week 42 (12 – 18 okt 2026)"


@pytest.mark.parametrize(
    "given",
    ["sinds 1 mei", "sinds 1 mei 2026", "vanaf 1-5-2026", "sinds 2026-05-01", "since May 1st"],
)
def test_since_a_day(given: str) -> None:
    current, previous = read(given)
    assert (current.start, current.end, current.label) == (
        local(2026, 5, 1),
        NOW,
        "sinds 1 mei 2026",
    )
    # 185 local days, today included, against the 185 whole days before.
    assert (previous.start, previous.end) == (local(2025, 10, 28), local(2026, 5, 1))


def test_since_a_day_without_a_year_is_the_most_recent_one() -> None:
    current, _ = read("sinds 15 dec")
    assert current.start == local(2025, 12, 15)


def test_labels_in_english() -> None:
    assert read("oktober", "en")[0].label == "October 2026"
    assert read("4w", "en")[0].label == "past 4 weeks (5 Oct – 1 Nov 2026)"
    assert read("q3", "en")[0].label == "Q3 2026"


@pytest.mark.parametrize(
    "given", ["blabla", "0w", "sinds 31 feb", "5e kwartaal", "2026 2027", "w4w"]
)
def test_unreadable_text_is_answered_in_dutch(given: str) -> None:
    with pytest.raises(PeriodError) as raised:
        read(given)
    assert str(raised.value) == text("trend_period_unreadable", "nl", given=given)
    assert "/trend 4w" in str(raised.value)


@pytest.mark.parametrize("given", ["2027", "dec 2026", "sinds 5 nov 2026", "q1 2027"])
def test_a_period_in_the_future_is_refused(given: str) -> None:
    with pytest.raises(PeriodError) as raised:
        read(given)
    assert str(raised.value) == text("trend_period_future", "nl", given=given)


@pytest.mark.parametrize("given", ["900w", "sinds 1990", "20 jaar"])
def test_a_period_of_more_than_ten_years_is_refused(given: str) -> None:
    with pytest.raises(PeriodError, match="hoogstens 10 jaar"):
        read(given)


def test_a_period_needs_aware_times_in_order() -> None:
    with pytest.raises(ValueError):
        Period(datetime(2026, 1, 1), datetime(2026, 2, 1), "naive")
    with pytest.raises(ValueError):
        Period(local(2026, 2, 1), local(2026, 1, 1), "backwards")


def test_a_period_is_kept_in_utc() -> None:
    first = local(2026, 10, 25, 2, 30)  # summer time
    second = first.replace(fold=1)  # the same wall-clock time an hour later, in winter time
    period = Period(first, second, "the hour that repeats")
    assert period.start.tzinfo is UTC
    assert period.duration == timedelta(hours=1)


def test_one_day_on_the_stroke_of_midnight_has_not_begun() -> None:
    midnight = local(2026, 11, 2)
    with pytest.raises(PeriodError):
        parse_period("1 dag", midnight, AMSTERDAM)
    current, _ = parse_period("2 dagen", midnight, AMSTERDAM)
    assert (current.start, current.end) == (local(2026, 11, 1), midnight)
