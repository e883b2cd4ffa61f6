"""The impact score: each initiative on the five levels of `domain.md`, with how it came about.

Use `score_initiative` for one initiative and `score_initiatives` for many at once (a fixed
handful of GROUP BY queries, however many initiatives); `level_at_least` picks the initiatives
that reach a level. Thresholds and the window are in `config/impact.toml`.
"""

from analytics.impact.config import ImpactConfig, ImpactConfigError, impact_config
from analytics.impact.indicators import INDICATORS, Indicators
from analytics.impact.scoring import (
    Criterion,
    ImpactScore,
    level_at_least,
    score_initiative,
    score_initiatives,
)

__all__ = [
    "INDICATORS",
    "Criterion",
    "ImpactConfig",
    "ImpactConfigError",
    "ImpactScore",
    "Indicators",
    "impact_config",
    "level_at_least",
    "score_initiative",
    "score_initiatives",
]
