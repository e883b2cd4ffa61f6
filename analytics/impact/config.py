"""The impact score's tunable part, read from `config/impact.toml`: window, criteria, words."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import config
from analytics.impact.indicators import INDICATORS, SHARE_INDICATORS

IMPACT_CONFIG = Path(config.__file__).resolve().parent / "impact.toml"
LEVELS = (1, 2, 3, 4, 5)


class ImpactConfigError(ValueError):
    """`config/impact.toml` says something the score cannot work with; the message says what."""


@dataclass(frozen=True)
class CriterionRule:
    """One sign of a level: `indicator` must reach `threshold`."""

    level: int
    name: str
    indicator: str
    threshold: float

    @property
    def is_share(self) -> bool:
        return self.indicator in SHARE_INDICATORS


@dataclass(frozen=True)
class ImpactConfig:
    window_months: int
    training_words: tuple[str, ...]
    criteria: tuple[CriterionRule, ...]
    prompt_interval_days: int

    def criteria_of(self, level: int) -> tuple[CriterionRule, ...]:
        return tuple(rule for rule in self.criteria if rule.level == level)


def _rule(raw: dict[str, Any]) -> CriterionRule:
    try:
        rule = CriterionRule(
            level=int(raw["level"]),
            name=str(raw["name"]),
            indicator=str(raw["indicator"]),
            threshold=float(raw["threshold"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ImpactConfigError(
            f"criterion {raw}: needs level, name, indicator, threshold"
        ) from error
    if rule.level not in LEVELS:
        raise ImpactConfigError(f"criterion {rule.name}: level must be 1 to 5")
    if rule.indicator not in INDICATORS:
        raise ImpactConfigError(
            f"criterion {rule.name}: unknown indicator {rule.indicator!r} "
            f"(known: {', '.join(INDICATORS)})"
        )
    if rule.threshold < 0 or (rule.is_share and rule.threshold > 1):
        raise ImpactConfigError(f"criterion {rule.name}: threshold out of range")
    return rule


def parse_impact_config(raw: dict[str, Any]) -> ImpactConfig:
    """Check and type what `impact.toml` holds."""
    criteria = tuple(_rule(item) for item in raw.get("criteria", []))
    names = [rule.name for rule in criteria]
    if len(set(names)) != len(names):
        raise ImpactConfigError("criteria need unique names")
    for level in LEVELS:
        if not any(rule.level == level for rule in criteria):
            raise ImpactConfigError(f"level {level} has no criteria")
    prompts = raw.get("prompts", {})
    window = int(raw.get("window_months", 12))
    interval = int(prompts.get("interval_days", 14))
    if window < 1 or interval < 1:
        raise ImpactConfigError("window_months and prompts.interval_days must be at least 1")
    words = tuple(str(word).lower() for word in raw.get("training_words", []))
    return ImpactConfig(window, words, criteria, interval)


@cache
def impact_config() -> ImpactConfig:
    """The shipped (or locally tuned) configuration, read once."""
    with IMPACT_CONFIG.open("rb") as file:
        return parse_impact_config(tomllib.load(file))
