"""`config/impact.toml`: the shipped file is valid, mistakes in it are named, every indicator
has words in both languages."""

from __future__ import annotations

import tomllib

import pytest

from analytics.impact import INDICATORS, ImpactConfigError, impact_config
from analytics.impact.config import IMPACT_CONFIG, parse_impact_config
from handlers.texts import catalogue


def shipped() -> dict[str, object]:
    with IMPACT_CONFIG.open("rb") as file:
        return tomllib.load(file)


def test_shipped_config_has_criteria_for_every_level() -> None:
    config = impact_config()
    assert config.window_months == 12 and config.prompt_interval_days == 14
    assert all(config.criteria_of(level) for level in range(1, 6))
    assert "training" in config.training_words


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"indicator": "likes"}, "unknown indicator"),
        ({"level": 6}, "level must be 1 to 5"),
        ({"threshold": 1.5, "indicator": "relevant_share"}, "out of range"),
    ],
)
def test_a_bad_criterion_is_named(change: dict[str, object], problem: str) -> None:
    raw = shipped()
    criteria = list(raw["criteria"])  # type: ignore[call-overload]
    criteria[0] = {**criteria[0], **change}
    with pytest.raises(ImpactConfigError, match=problem):
        parse_impact_config({**raw, "criteria": criteria})


def test_a_level_without_criteria_is_refused() -> None:
    raw = shipped()
    criteria = [c for c in raw["criteria"] if c["level"] != 3]  # type: ignore[attr-defined]
    with pytest.raises(ImpactConfigError, match="level 3 has no criteria"):
        parse_impact_config({**raw, "criteria": criteria})


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_indicator_has_a_label_and_a_next_step(language: str) -> None:
    words = catalogue(language)
    for indicator in INDICATORS:
        assert words[f"impact_indicator_{indicator}"] and words[f"impact_step_{indicator}"]
