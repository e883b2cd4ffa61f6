"""The trend of one initiative: incidents per category, now against before, and what stands out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from analytics.periods import Period
from analytics.stats import compare_counts

# A change is notable when chance is an unlikely explanation (the p-value) and it is big enough
# to matter to a group (the difference): 0 → 2 or 1 → 4 is never news, however it tests.
NOTABLE_P_VALUE = 0.05
NOTABLE_MIN_DIFFERENCE = 3

# "The busiest day" only means something when one day stands out: at least this many
# incidents, and no other day as many.
BUSIEST_MIN_COUNT = 2


@dataclass(frozen=True)
class IncidentFact:
    """What the trend needs to know about one incident (one event, however many posts)."""

    opened_at: datetime
    category: str
    urgent: bool
    followed_up: bool

    def __post_init__(self) -> None:
        if self.opened_at.tzinfo is None:
            raise ValueError("IncidentFact.opened_at must be an aware datetime")


@dataclass(frozen=True)
class CategoryChange:
    """One category's count now and before; `direction` compares rates, so unequal periods work."""

    category: str
    current: int
    previous: int
    p_value: float
    notable: bool
    direction: str  # "up", "down" or "same"


@dataclass(frozen=True)
class TrendReport:
    """Everything /trend and the weekly digest say about one initiative and one period."""

    initiative: str
    current: Period
    previous: Period
    per_category: tuple[CategoryChange, ...]  # busiest first; categories seen in either period
    total_current: int
    total_previous: int
    urgent_current: int
    followed_up_current: int
    followed_up_share: float | None  # None without incidents in the current period
    busiest_weekday: int | None  # Monday is 0, local time; None when no day stands out
    busiest_hour: int | None  # 0-23, local time; None when no hour stands out
    exposure_ratio: float  # length of the current period / length of the previous one

    @property
    def rises(self) -> tuple[CategoryChange, ...]:
        """Notable rises, most convincing first."""
        return _notable(self.per_category, "up")

    @property
    def falls(self) -> tuple[CategoryChange, ...]:
        """Notable falls, most convincing first."""
        return _notable(self.per_category, "down")


def _notable(changes: Iterable[CategoryChange], direction: str) -> tuple[CategoryChange, ...]:
    chosen = (c for c in changes if c.notable and c.direction == direction)
    return tuple(sorted(chosen, key=lambda change: change.p_value))


def compare_category(
    category: str, current: int, previous: int, exposure_ratio: float = 1.0
) -> CategoryChange:
    """Test one category's change and judge whether it is notable."""
    p_value = compare_counts(current, previous, exposure_ratio)
    # Against the count the previous rate predicts for a period as long as the current one.
    difference = current - previous * exposure_ratio
    direction = "same" if abs(difference) < 0.5 else "up" if difference > 0 else "down"
    notable = p_value < NOTABLE_P_VALUE and abs(difference) >= NOTABLE_MIN_DIFFERENCE
    return CategoryChange(category, current, previous, p_value, notable, direction)


def _single_busiest(counts: Counter[int]) -> int | None:
    ranked = counts.most_common(2)
    if not ranked or ranked[0][1] < BUSIEST_MIN_COUNT:
        return None
    if len(ranked) == 2 and ranked[1][1] == ranked[0][1]:
        return None
    return ranked[0][0]


def build_trend(
    initiative: str,
    incidents: Iterable[IncidentFact],
    current: Period,
    previous: Period,
    zone: ZoneInfo,
) -> TrendReport:
    """Count `incidents` in both periods; incidents outside them are ignored."""
    exposure_ratio = current.duration / previous.duration
    now: Counter[str] = Counter()
    before: Counter[str] = Counter()
    weekdays: Counter[int] = Counter()
    hours: Counter[int] = Counter()
    urgent = followed_up = 0
    for incident in incidents:
        if incident.opened_at in previous:
            before[incident.category] += 1
        if incident.opened_at in current:
            now[incident.category] += 1
            urgent += incident.urgent
            followed_up += incident.followed_up
            local = incident.opened_at.astimezone(zone)
            weekdays[local.weekday()] += 1
            hours[local.hour] += 1
    changes = sorted(
        (
            compare_category(c, now[c], before[c], exposure_ratio)
            for c in now.keys() | before.keys()
        ),
        key=lambda change: (-change.current, -change.previous, change.category),
    )
    total = now.total()
    return TrendReport(
        initiative=initiative,
        current=current,
        previous=previous,
        per_category=tuple(changes),
        total_current=total,
        total_previous=before.total(),
        urgent_current=urgent,
        followed_up_current=followed_up,
        followed_up_share=followed_up / total if total else None,
        busiest_weekday=_single_busiest(weekdays),
        busiest_hour=_single_busiest(hours),
        exposure_ratio=exposure_ratio,
    )
