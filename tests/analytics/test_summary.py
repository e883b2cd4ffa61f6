"""The trend in words: the /trend reply and the weekly digest's next step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from analytics.periods import parse_period
from analytics.summary import render_trend_text, suggested_next_step
from analytics.trend import IncidentFact, TrendReport, build_trend
from handlers.texts import catalogue, text
from nlp.labels import CATEGORIES

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
CURRENT, PREVIOUS = parse_period("4w", NOW, AMSTERDAM)


def incidents(
    category: str,
    current: int,
    previous: int,
    *,
    followed_up: int = 0,
    urgent: int = 0,
    first: datetime = datetime(2026, 10, 5, 18, 0, tzinfo=UTC),  # a Monday, 20:00 local
) -> list[IncidentFact]:
    """`current` incidents a day apart from `first`, and `previous` in the period before."""
    now = [
        IncidentFact(first + timedelta(days=i), category, i < urgent, i < followed_up)
        for i in range(current)
    ]
    before = [
        IncidentFact(PREVIOUS.start + timedelta(days=i, hours=12), category, False, False)
        for i in range(previous)
    ]
    return now + before


def report(*groups: list[IncidentFact], language: str = "nl") -> TrendReport:
    current, previous = parse_period("4w", NOW, AMSTERDAM, language)
    facts = [incident for group in groups for incident in group]
    return build_trend("Merelbuurt", facts, current, previous, AMSTERDAM)


def test_the_text_names_a_notable_rise_and_not_a_small_one() -> None:
    reply = render_trend_text(report(incidents("inbraak", 12, 2), incidents("verdacht", 4, 2)))
    rises = [line for line in reply.splitlines() if line.startswith("📈")]
    assert rises == ["📈 Opvallend meer: inbraak 12 (was 2)"]
    assert "📉" not in reply


def test_the_text_opens_with_the_initiative_period_and_totals() -> None:
    reply = render_trend_text(report(incidents("inbraak", 12, 2), incidents("verdacht", 4, 2)))
    lines = reply.splitlines()
    assert lines[0] == "📊 Trend Merelbuurt · afgelopen 4 weken (5 okt – 1 nov 2026)"
    assert lines[1] == "16 meldingen, tegen 4 in de periode daarvoor (7 sep – 4 okt 2026)."
    assert lines[2] == "Meest gemeld: inbraak 12 · verdacht 4"


def test_the_text_names_a_notable_fall() -> None:
    reply = render_trend_text(report(incidents("overlast", 1, 11), incidents("verdacht", 3, 3)))
    assert "📉 Opvallend minder: overlast 1 (was 11)" in reply.splitlines()


def test_without_notable_changes_the_text_says_so() -> None:
    reply = render_trend_text(report(incidents("verdacht", 4, 2)))
    assert text("trend_no_notable") in reply.splitlines()
    assert "Opvallend" not in reply


def test_urgent_followed_up_and_busiest_moment() -> None:
    reply = render_trend_text(report(incidents("inbraak", 7, 2, followed_up=2, urgent=1)))
    lines = reply.splitlines()
    assert "🚨 Urgente meldingen: 1" in lines
    assert "✅ Terugkoppeling op 2 van de 7 meldingen (29%)" in lines
    # Seven days in a row from a Monday: no single busiest day, but always 20:00 local.
    assert "🕘 Drukste uur: 20–21 uur" in lines


def test_the_busiest_day_is_named_in_dutch() -> None:
    fridays = [
        IncidentFact(datetime(2026, 10, day, 20, 30, tzinfo=UTC), "inbraak", False, False)
        for day in (9, 16, 23, 30)
    ]
    reply = render_trend_text(report(fridays))
    # 9, 16 and 23 October are summer time (22:30), 30 October winter time (21:30).
    assert "🕘 Drukste dag: vrijdag · drukste uur: 22–23 uur" in reply.splitlines()


def test_no_incidents_at_all_is_a_friendly_short_message() -> None:
    reply = render_trend_text(report())
    assert reply.splitlines() == [
        "📊 Trend Merelbuurt · afgelopen 4 weken (5 okt – 1 nov 2026)",
        text("trend_nothing"),
    ]
    assert "🌿" in reply


def test_a_quiet_period_after_a_busy_one() -> None:
    reply = render_trend_text(report(incidents("overlast", 0, 9)))
    lines = reply.splitlines()
    assert lines[1] == "Geen meldingen, tegen 9 in de periode daarvoor (7 sep – 4 okt 2026)."
    assert text("trend_quiet") in lines
    assert "📉 Opvallend minder: overlast 0 (was 9)" in lines
    assert not any(line.startswith(("🚨", "✅", "🕘")) for line in lines)


def test_a_busy_month_still_fits_on_a_phone() -> None:
    groups = [incidents(category, 20 + i, 3 * i) for i, category in enumerate(CATEGORIES)]
    reply = render_trend_text(report(*groups))
    assert len(reply.splitlines()) <= 9
    assert max(len(line) for line in reply.splitlines()) < 260
    assert len(reply) < 700


def test_the_text_in_english() -> None:
    reply = render_trend_text(report(incidents("inbraak", 12, 2), language="en"), "en")
    assert "📈 Notably more: burglary 12 (was 2)" in reply.splitlines()
    assert "12 incidents, compared with 2 in the period before (7 Sep – 4 Oct 2026)." in reply


def test_a_notable_rise_in_burglaries_suggests_the_wijkagent_and_a_schouw() -> None:
    step = suggested_next_step(report(incidents("inbraak", 12, 2), incidents("verdacht", 4, 2)))
    assert step == text("trend_next_rise_inbraak", current=12, previous=2)
    assert "wijkagent" in step
    assert "schouw" in step


def test_a_rise_in_an_unknown_category_gets_the_general_suggestion() -> None:
    step = suggested_next_step(report(incidents("drugs", 12, 2)))
    assert step == text("trend_next_rise", category="drugs", current=12, previous=2)


def test_little_feedback_suggests_asking_partners_for_it() -> None:
    step = suggested_next_step(report(incidents("verdacht", 6, 5, followed_up=1)))
    assert step == text("trend_next_follow_up", followed=1, total=6)
    assert "terugkoppeling" in step


def test_a_rise_comes_before_little_feedback() -> None:
    step = suggested_next_step(report(incidents("inbraak", 12, 2, followed_up=0)))
    assert step.startswith("👉 Opvallend meer inbraken")


def test_a_notable_fall_is_good_news_to_share() -> None:
    step = suggested_next_step(report(incidents("overlast", 1, 11, followed_up=1)))
    assert step == text("trend_next_fall", category="overlast", current=1, previous=11)


def test_a_quiet_period_thanks_the_group() -> None:
    assert suggested_next_step(report()) == text("trend_next_quiet")


def test_nothing_notable_suggests_forwarding_the_overview() -> None:
    step = suggested_next_step(report(incidents("verdacht", 4, 3, followed_up=3)))
    assert step == text("trend_next_share")


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_category_has_a_name_and_a_suggestion(language: str) -> None:
    texts = catalogue(language)
    for category in CATEGORIES:
        assert f"trend_category_{category}" in texts
        assert f"trend_next_rise_{category}" in texts
