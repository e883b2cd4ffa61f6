"""Counting incidents per category in two periods, and judging which changes are notable."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from analytics.periods import Period
from analytics.trend import IncidentFact, build_trend, compare_category

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Four weeks each; summer time ends on Sunday 25 October, inside the current period.
CURRENT = Period(
    datetime(2026, 10, 5, tzinfo=AMSTERDAM), datetime(2026, 11, 2, tzinfo=AMSTERDAM), "now"
)
PREVIOUS = Period(
    datetime(2026, 9, 7, tzinfo=AMSTERDAM), datetime(2026, 10, 5, tzinfo=AMSTERDAM), "before"
)


def fact(
    utc: datetime, category: str, *, urgent: bool = False, followed_up: bool = False
) -> IncidentFact:
    return IncidentFact(utc.replace(tzinfo=UTC), category, urgent, followed_up)


INCIDENTS = [
    # Burglaries in the evening, local time. In UTC they fall at 20:xx in summer time and at
    # 21:xx in winter time: only in Amsterdam time are they all at 22:xx.
    fact(datetime(2026, 10, 23, 20, 45), "inbraak", urgent=True),  # Fri 22:45 summer time
    fact(datetime(2026, 10, 24, 20, 30), "inbraak"),  # Sat 22:30 summer time
    fact(datetime(2026, 10, 25, 21, 30), "inbraak", followed_up=True),  # Sun 22:30 winter time
    fact(datetime(2026, 10, 30, 21, 10), "inbraak"),  # Fri 22:10 winter time
    fact(datetime(2026, 10, 16, 9, 0), "inbraak"),  # Fri 11:00
    fact(datetime(2026, 10, 12, 8, 0), "verdacht", followed_up=True),  # Mon 10:00
    fact(datetime(2026, 10, 14, 15, 0), "verdacht"),  # Wed 17:00
    # The previous period.
    fact(datetime(2026, 9, 10, 12, 0), "inbraak"),
    fact(datetime(2026, 9, 12, 12, 0), "verdacht"),
    fact(datetime(2026, 9, 20, 12, 0), "verdacht"),
    fact(datetime(2026, 10, 4, 21, 59), "overlast"),  # Sun 23:59, the last minute before
    # Outside both periods.
    fact(datetime(2026, 9, 6, 12, 0), "inbraak"),
    fact(datetime(2026, 11, 1, 23, 0), "inbraak"),  # Mon 2 Nov 00:00: the first minute after
]


def test_counts_per_category_in_both_periods() -> None:
    report = build_trend("Merelbuurt", INCIDENTS, CURRENT, PREVIOUS, AMSTERDAM)
    counts = [(c.category, c.current, c.previous) for c in report.per_category]
    assert counts == [("inbraak", 5, 1), ("verdacht", 2, 2), ("overlast", 0, 1)]
    assert (report.total_current, report.total_previous) == (7, 4)
    assert report.initiative == "Merelbuurt"


def test_urgent_and_followed_up_count_in_the_current_period() -> None:
    report = build_trend("Merelbuurt", INCIDENTS, CURRENT, PREVIOUS, AMSTERDAM)
    assert report.urgent_current == 1
    assert report.followed_up_current == 2
    assert report.followed_up_share == pytest.approx(2 / 7)


def test_busiest_day_and_hour_are_in_amsterdam_time_across_the_change_to_winter_time() -> None:
    report = build_trend("Merelbuurt", INCIDENTS, CURRENT, PREVIOUS, AMSTERDAM)
    assert report.busiest_weekday == 4  # Friday: 23 Oct, 30 Oct and 16 Oct
    assert report.busiest_hour == 22  # in UTC these are two hours of two incidents each


def test_no_busiest_day_or_hour_when_none_stands_out() -> None:
    tied = [
        fact(datetime(2026, 10, 12, 8, 0), "verdacht"),
        fact(datetime(2026, 10, 13, 9, 0), "verdacht"),
    ]
    report = build_trend("Merelbuurt", tied, CURRENT, PREVIOUS, AMSTERDAM)
    assert (report.busiest_weekday, report.busiest_hour) == (None, None)


def test_the_current_period_is_an_hour_longer_when_summer_time_ends() -> None:
    report = build_trend("Merelbuurt", INCIDENTS, CURRENT, PREVIOUS, AMSTERDAM)
    assert report.exposure_ratio == pytest.approx((28 * 24 + 1) / (28 * 24))


def test_no_incidents_at_all() -> None:
    report = build_trend("Merelbuurt", [], CURRENT, PREVIOUS, AMSTERDAM)
    assert report.per_category == ()
    assert (report.total_current, report.total_previous, report.urgent_current) == (0, 0, 0)
    assert report.followed_up_share is None
    assert (report.busiest_weekday, report.busiest_hour) == (None, None)
    assert (report.rises, report.falls) == ((), ())


def test_a_big_rise_is_notable() -> None:
    change = compare_category("inbraak", 12, 2)
    assert (change.direction, change.notable) == ("up", True)
    assert change.p_value < 0.05


def test_a_big_fall_is_notable() -> None:
    change = compare_category("overlast", 1, 11)
    assert (change.direction, change.notable) == ("down", True)


def test_nothing_to_two_is_never_notable() -> None:
    assert compare_category("inbraak", 2, 0).notable is False
    # Even when the test alone would call it: a week against a previous ten weeks.
    change = compare_category("inbraak", 2, 0, exposure_ratio=0.1)
    assert change.p_value < 0.05
    assert change.notable is False


def test_nothing_to_five_is_not_notable_but_nothing_to_six_is() -> None:
    assert compare_category("verdacht", 5, 0).notable is False  # p = 0.0625
    assert compare_category("verdacht", 6, 0).notable is True  # p = 0.03125


def test_direction_compares_rates_when_the_periods_differ_in_length() -> None:
    # The same count in a period twice as long is a fall in the rate.
    assert compare_category("verdacht", 10, 10, exposure_ratio=2.0).direction == "down"
    assert compare_category("verdacht", 10, 10).direction == "same"


def test_rises_and_falls_list_only_notable_changes_most_convincing_first() -> None:
    incidents = (
        [fact(datetime(2026, 10, 6 + i, 12, 0), "inbraak") for i in range(12)]
        + [fact(datetime(2026, 10, 6 + i, 13, 0), "diefstal") for i in range(8)]
        + [fact(datetime(2026, 10, 6 + i, 14, 0), "verdacht") for i in range(4)]
        + [fact(datetime(2026, 9, 8 + i, 12, 0), "verdacht") for i in range(2)]
        + [fact(datetime(2026, 9, 8 + i, 12, 0), "overlast") for i in range(9)]
    )
    report = build_trend("Merelbuurt", incidents, CURRENT, PREVIOUS, AMSTERDAM)
    assert [c.category for c in report.rises] == ["inbraak", "diefstal"]
    assert [c.category for c in report.falls] == ["overlast"]


def test_an_incident_needs_an_aware_time() -> None:
    with pytest.raises(ValueError):
        IncidentFact(datetime(2026, 10, 6, 12, 0), "inbraak", False, False)
