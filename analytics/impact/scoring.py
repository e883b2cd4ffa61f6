"""The level (0–5) of an initiative from its indicators, with progress and the explanation.

An initiative is at the highest level whose criteria are all met together with those of every
level below. Progress towards the next level is the mean, over that level's criteria, of how far
each indicator is towards its threshold (capped at 100%).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.impact.config import LEVELS, CriterionRule, ImpactConfig, impact_config
from analytics.impact.indicators import Indicators, collect_indicators
from storage.models import Initiative

TOP_LEVEL = LEVELS[-1]


@dataclass(frozen=True)
class Criterion:
    """One criterion with the initiative's figure: what was needed and whether it was met."""

    level: int
    name: str
    indicator: str
    value: float
    threshold: float
    met: bool
    is_share: bool

    @property
    def fraction(self) -> float:
        """How far the figure is towards the threshold, 0–1."""
        return 1.0 if self.threshold <= 0 else min(1.0, self.value / self.threshold)


@dataclass(frozen=True)
class ImpactScore:
    """An initiative's level, its progress towards the next one, and how that came about."""

    initiative_id: int
    level: int  # 0 while not even level 1's criteria are met
    progress: int  # percent towards level + 1; 100 at the top level
    criteria: tuple[Criterion, ...]
    indicators: Indicators
    window_start: datetime
    window_end: datetime

    @property
    def next_level(self) -> int | None:
        return self.level + 1 if self.level < TOP_LEVEL else None

    def open_criteria(self) -> list[Criterion]:
        """Criteria not met yet, lowest level first: what to work on next."""
        return [criterion for criterion in self.criteria if not criterion.met]

    def as_json(self) -> dict[str, object]:
        """The contract of `buurtbot impact --json` and the Communitymonitor export."""
        return {
            "level": self.level,
            "progress": self.progress,
            "window": {"start": self.window_start.isoformat(), "end": self.window_end.isoformat()},
            "criteria": [
                {
                    "name": criterion.name,
                    "level": criterion.level,
                    "indicator": criterion.indicator,
                    "value": round(criterion.value, 3),
                    "threshold": criterion.threshold,
                    "met": criterion.met,
                }
                for criterion in self.criteria
            ],
        }


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day if shorter)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


def _criterion(rule: CriterionRule, figures: Indicators) -> Criterion:
    value = figures.value(rule.indicator)
    return Criterion(
        level=rule.level,
        name=rule.name,
        indicator=rule.indicator,
        value=value,
        threshold=rule.threshold,
        met=value >= rule.threshold,
        is_share=rule.is_share,
    )


def score_figures(
    initiative_id: int,
    figures: Indicators,
    config: ImpactConfig,
    window: tuple[datetime, datetime],
) -> ImpactScore:
    """Level, progress and explanation from an initiative's figures."""
    criteria = tuple(
        _criterion(rule, figures) for rule in sorted(config.criteria, key=lambda r: r.level)
    )
    level = 0
    for candidate in LEVELS:
        if not all(c.met for c in criteria if c.level == candidate):
            break
        level = candidate
    progress = 100
    if level < TOP_LEVEL:
        upcoming = [c.fraction for c in criteria if c.level == level + 1]
        progress = round(100 * sum(upcoming) / len(upcoming))
    return ImpactScore(initiative_id, level, progress, criteria, figures, *window)


def score_initiatives(
    session: Session,
    now: datetime,
    initiative_ids: Collection[int] | None = None,
    config: ImpactConfig | None = None,
) -> dict[int, ImpactScore]:
    """Score many initiatives at once (all of them by default) over the window ending `now`."""
    config = config or impact_config()
    every = initiative_ids is None
    ids = list(session.scalars(select(Initiative.id))) if initiative_ids is None else initiative_ids
    window = (months_before(now, config.window_months), now)
    figures = collect_indicators(session, *window, ids, config.training_words, every)
    return {
        initiative_id: score_figures(initiative_id, figures[initiative_id], config, window)
        for initiative_id in ids
    }


def score_initiative(
    session: Session, initiative_id: int, now: datetime, config: ImpactConfig | None = None
) -> ImpactScore:
    """Score one initiative over the window ending `now`."""
    return score_initiatives(session, now, [initiative_id], config)[initiative_id]


def level_at_least(
    session: Session, minimum: int, now: datetime, config: ImpactConfig | None = None
) -> list[int]:
    """The initiatives at `minimum` level or higher (e.g. for regional events), by id."""
    scores = score_initiatives(session, now, config=config)
    return sorted(
        initiative_id for initiative_id, score in scores.items() if score.level >= minimum
    )
