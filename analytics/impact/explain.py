"""The impact score in words: the level, each criterion with its figure, and the next step."""

from __future__ import annotations

from analytics.impact.config import LEVELS
from analytics.impact.scoring import Criterion, ImpactScore
from handlers.texts import text


def level_name(level: int, language: str = "nl") -> str:
    return text(f"impact_level_{level}", language)


def figure(value: float, is_share: bool) -> str:
    """3 → "3", 0.456 as a share → "46%"."""
    return f"{round(value * 100)}%" if is_share else f"{value:g}"


def criterion_line(criterion: Criterion, language: str = "nl") -> str:
    """'✅ meldingen: 12 (nodig: 3)'."""
    return text(
        "impact_criterion_met" if criterion.met else "impact_criterion_open",
        language,
        label=text(f"impact_indicator_{criterion.indicator}", language),
        value=figure(criterion.value, criterion.is_share),
        threshold=figure(criterion.threshold, criterion.is_share),
    )


def progress_line(score: ImpactScore, language: str = "nl") -> str:
    """How far towards the next level ('Op weg naar niveau 2 … 67%'), or that it is the top."""
    if score.next_level is None:
        return text("impact_top", language)
    return text(
        "impact_progress",
        language,
        next=score.next_level,
        name=level_name(score.next_level, language),
        progress=score.progress,
    )


def next_step(score: ImpactScore, language: str = "nl") -> str:
    """What to do first: the step for the lowest criterion not met yet."""
    open_criteria = score.open_criteria()
    key = f"impact_step_{open_criteria[0].indicator}" if open_criteria else "impact_step_top"
    return text(key, language)


def explanation_lines(score: ImpactScore, language: str = "nl") -> list[str]:
    """Per level a heading and its criteria, each with figure, threshold and met or not."""
    lines: list[str] = []
    for level in LEVELS:
        criteria = [criterion for criterion in score.criteria if criterion.level == level]
        if not criteria:
            continue
        lines.append(
            text("impact_level_heading", language, level=level, name=level_name(level, language))
        )
        lines += [criterion_line(criterion, language) for criterion in criteria]
    return lines


def render_impact_text(
    score: ImpactScore, initiative: str, months: int, language: str = "nl"
) -> str:
    """What /niveau and `buurtbot impact` say: level, progress, explanation, next step."""
    head = [
        text(
            "impact_headline",
            language,
            initiative=initiative,
            level=score.level,
            name=level_name(score.level, language),
        )
    ]
    head.append(progress_line(score, language))
    head.append(text("impact_window", language, months=months))
    step = text("impact_next_step", language, step=next_step(score, language))
    return "\n".join([*head, "", *explanation_lines(score, language), "", step])
