"""The incident facts a trend is computed from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.trend import IncidentFact
from storage.models import Incident


def incident_facts(
    session: Session, initiative_id: int, start: datetime, end: datetime
) -> list[IncidentFact]:
    """The initiative's incidents opened in [start, end)."""
    rows = session.execute(
        select(Incident.opened_at, Incident.category, Incident.urgent, Incident.followed_up).where(
            Incident.initiative_id == initiative_id,
            Incident.opened_at >= start,
            Incident.opened_at < end,
        )
    )
    return [
        IncidentFact(opened_at=opened, category=category, urgent=urgent, followed_up=followed)
        for opened, category, urgent, followed in rows
    ]
