"""The impact score: groups built through the real handlers sit at the level they should, with
the explanation; /niveau and /idee; the bulk score agrees with the single one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from analytics.impact import ImpactScore, level_at_least, score_initiative, score_initiatives
from handlers.texts import text
from storage.db import Database
from storage.models import Idea, Member, MembershipEvent, OutboxMessage
from storage.outbox import mark_sent
from tests.impact_groups import (
    ANJA,
    JAN,
    KEES,
    LEVEL_STEPS,
    PIET,
    Clock,
    Group,
    level_1,
    level_2,
)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


def build(db: Database, clock: Clock, number: int, steps: Callable[[Group], None]) -> Group:
    group = Group(db, clock, number)
    steps(group)
    return group


def score(db: Database, group: Group, clock: Clock) -> ImpactScore:
    with db.unit_of_work() as session:
        return score_initiative(session, group.initiative_id(), clock.now)


def criterion(result: ImpactScore, name: str) -> tuple[float, bool]:
    found = next(c for c in result.criteria if c.name == name)
    return found.value, found.met


def test_groups_built_through_the_handlers_sit_at_each_level(db: Database, clock: Clock) -> None:
    def chat_only(group: Group) -> None:
        group.add_bot()
        group.say(KEES, "Goedemorgen allemaal")

    groups = {0: build(db, clock, 0, chat_only)}
    for level, steps in enumerate(LEVEL_STEPS, start=1):
        groups[level] = build(db, clock, level, steps)
    with db.unit_of_work() as session:
        bulk = score_initiatives(session, clock.now)
        ids = {level: group.initiative_id() for level, group in groups.items()}
        assert {level: bulk[ids[level]].level for level in groups} == {n: n for n in range(6)}
        assert level_at_least(session, 4, clock.now) == sorted([ids[4], ids[5]])
    for level, group in groups.items():
        single = score(db, group, clock)
        assert single.level == level
        assert single.criteria == bulk[ids[level]].criteria  # bulk and single agree
    top = bulk[ids[5]]
    assert top.progress == 100 and top.next_level is None
    assert all(c.met for c in top.criteria)
    assert criterion(top, "ideeen") == (3, True)  # two with /idee, one post labelled idee
    assert criterion(top, "ideeen_aangenomen") == (1, True)
    growth = bulk[ids[4]]
    assert criterion(growth, "ledengroei") == (3, True)
    assert criterion(growth, "aandeel_welkom_met_regels") == (1.0, True)
    assert criterion(growth, "trainingen") == (1, True)
    assert criterion(growth, "ideeen") == (0, False)
    cooperation = bulk[ids[3]]
    assert criterion(cooperation, "aandeel_terugkoppeling") == (4 / 12, True)
    assert criterion(cooperation, "schouwen_met_partners") == (1, True)
    assert criterion(cooperation, "ledengroei") == (0, False)


def test_level_one_explains_that_agreements_are_missing(db: Database, clock: Clock) -> None:
    group = build(db, clock, 1, level_1)
    result = score(db, group, clock)
    assert result.level == 1
    assert criterion(result, "meldingen") == (4, True)
    assert criterion(result, "aandeel_relevant") == (4 / 9, True)
    assert criterion(result, "aandeel_relevant_hoog") == (4 / 9, False)
    assert criterion(result, "afspraken") == (0, False)
    # Level 2: agreements 0/2, one coordinator 1/1, relevance 44/50%, partner contact 0/1.
    assert result.progress == round(100 * (0 + 1 + (4 / 9) / 0.5 + 0) / 4)
    _, [answer] = group.say(ANJA, "/niveau")
    assert "niveau 1 · Gezamenlijk perspectief" in answer.text
    assert f"Op weg naar niveau 2 (Gezamenlijke verwachtingen): {result.progress}%" in answer.text
    assert "✅ meldingen: 4 (nodig: 3)" in answer.text
    assert "⬜ afspraken gedeeld: 0 (nodig: 2)" in answer.text
    assert (
        "⬜ deel meldingen en terugkoppeling (tegenover kletspraat): 44% (nodig: 50%)"
        in answer.text
    )
    assert text("impact_step_agreements") in answer.text


def test_niveau_is_for_coordinators_and_partners(db: Database, clock: Clock) -> None:
    group = build(db, clock, 2, level_2)
    _, [refused] = group.say(KEES, "/niveau")
    assert refused.text == text("impact_command_not_allowed")
    _, [for_partner] = group.say(JAN, "/niveau")  # Jan is the wijkagent (role politie)
    assert "niveau 2 · Gezamenlijke verwachtingen" in for_partner.text
    assert "⬜ meldingen met terugkoppeling: 0% (nodig: 30%)" in for_partner.text
    assert text("impact_step_followed_up_share") in for_partner.text


def test_a_coordinator_adopts_an_idea_by_replying_to_its_note(db: Database, clock: Clock) -> None:
    group = build(db, clock, 1, lambda g: g.add_bot())
    _, [note] = group.say(KEES, "/idee buurtborden bij de ingang, bel mij op 06-12345678")
    assert "Idee 1 genoteerd" in note.text and "[telefoonnummer]" in note.text
    with db.unit_of_work() as session:
        queued = session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == note.key))
        mark_sent(session, queued.one().id, "9001")  # what the delivery loop does
    _, [listing] = group.say(PIET, "/idee")
    assert "1. buurtborden bij de ingang" in listing.text and "(Kees)" in listing.text
    _, [refused] = group.say(KEES, "/idee aangenomen", reply_to="9001")
    assert "coördinator" in refused.text
    _, [adopted] = group.say(ANJA, "/idee aangenomen", reply_to="9001")
    assert "Idee 1 is aangenomen door Anja" in adopted.text and "Kees" in adopted.text
    _, [again] = group.say(ANJA, "/idee aannemen 1")
    assert again.text == text("idea_already_adopted", "nl", number=1)
    _, [unknown] = group.say(ANJA, "/idee aannemen 7")
    assert "Idee 7 ken ik niet" in unknown.text
    _, [empty] = group.say(PIET, "/idee")
    assert empty.text == text("idea_list_empty")
    with db.unit_of_work() as session:
        idea = session.scalars(select(Idea)).one()
        adopter = session.get(Member, idea.adopted_by_id)
        assert adopter is not None and adopter.display_name == "Anja"
        assert idea.adopted_at == clock.now and "06-12345678" not in idea.text


def test_new_members_get_the_rules_once_and_are_counted(db: Database, clock: Clock) -> None:
    group = build(db, clock, 1, lambda g: g.add_bot())
    [welcome] = group.join(KEES, PIET, days_ago=3)
    assert "Welkom Kees, Piet" in welcome.text and "112" in welcome.text
    assert welcome.key is not None
    # Kees leaves and comes back: his join counts again, but he had the rules already.
    [second] = group.join(KEES, JAN, days_ago=1)
    assert "Welkom Jan!" in second.text and "Kees" not in second.text
    assert group.join(KEES) == []
    with db.unit_of_work() as session:
        assert len(list(session.scalars(select(MembershipEvent)))) == 5
    result = score(db, group, clock)
    assert criterion(result, "ledengroei") == (5, True)
    assert criterion(result, "aandeel_welkom_met_regels") == (1.0, True)
