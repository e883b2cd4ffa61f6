"""Ideas members file with `/idee`, and their adoption by a coordinator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Idea, Member
from storage.privacy import mask_personal_data

MAX_IDEA_TEXT = 1000


def file_idea(
    session: Session, initiative_id: int, proposer: Member, text: str, now: datetime
) -> Idea:
    """Store an idea under the initiative's next number; the text is masked like messages."""
    last = session.scalar(select(func.max(Idea.number)).where(Idea.initiative_id == initiative_id))
    idea = Idea(
        initiative_id=initiative_id,
        number=(last or 0) + 1,
        proposer_id=proposer.id,
        text=mask_personal_data(text)[:MAX_IDEA_TEXT],
        created_at=now,
    )
    session.add(idea)
    session.flush()
    return idea


def find_idea(session: Session, initiative_id: int, number: int) -> Idea | None:
    return session.scalars(
        select(Idea).where(Idea.initiative_id == initiative_id, Idea.number == number)
    ).one_or_none()


def open_ideas(session: Session, initiative_id: int) -> list[tuple[Idea, str]]:
    """Ideas not adopted yet, oldest first, with the proposer's name."""
    rows = session.execute(
        select(Idea, Member.display_name)
        .outerjoin(Member, Member.id == Idea.proposer_id)
        .where(Idea.initiative_id == initiative_id, Idea.adopted_at.is_(None))
        .order_by(Idea.number)
    )
    return [(idea, name or "?") for idea, name in rows]


def adopt(idea: Idea, coordinator: Member, now: datetime) -> None:
    idea.adopted_at, idea.adopted_by_id = now, coordinator.id
