"""The spaCy pipeline: a blank Dutch tokenizer and three textcat heads on one model architecture.

Each head is an exclusive textcat with its own explicit labels, trained on its own examples
(training them jointly on one `doc.cats` would clash); they share nothing but the tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nlp.labels import (
    CATEGORIES,
    KINDS,
    KINDS_THAT_CAN_BE_URGENT,
    KINDS_WITH_CATEGORY,
    NOT_URGENT,
    URGENCY_LABELS,
    URGENT,
)

if TYPE_CHECKING:
    from spacy.language import Language

    from nlp.corpus import LabelledMessage

LANGUAGE = "nl"
PIPELINE_NAME = "buurtbot_nl"


@dataclass(frozen=True, slots=True)
class Head:
    """One textcat component: its name, its labels and which messages teach it what."""

    name: str
    labels: tuple[str, ...]
    trains_on: Callable[[LabelledMessage], bool]
    label_of: Callable[[LabelledMessage], str]


KIND_HEAD = Head(
    name="textcat_kind",
    labels=KINDS,
    trains_on=lambda message: True,
    label_of=lambda message: message.kind,
)
# Category only means something for signals and follow-ups, so it only learns from those.
CATEGORY_HEAD = Head(
    name="textcat_category",
    labels=CATEGORIES,
    trains_on=lambda message: message.kind in KINDS_WITH_CATEGORY,
    label_of=lambda message: message.category or "",
)
# Urgency is only asked of signals (nothing else can be urgent).
URGENT_HEAD = Head(
    name="textcat_urgent",
    labels=URGENCY_LABELS,
    trains_on=lambda message: message.kind in KINDS_THAT_CAN_BE_URGENT,
    label_of=lambda message: URGENT if message.urgent else NOT_URGENT,
)
HEADS: tuple[Head, ...] = (KIND_HEAD, CATEGORY_HEAD, URGENT_HEAD)


def model_config(
    *,
    length: int,
    char_ngram_min: int,
    char_ngram_max: int,
    word_ngram_max: int,
    word_weight: float,
    cue_weight: float,
) -> dict[str, Any]:
    """The `model` block of a textcat component that uses the buurtbot architecture."""
    from nlp.architecture import ARCHITECTURE

    return {
        "@architectures": ARCHITECTURE,
        "nO": None,
        "length": length,
        "char_ngram_min": char_ngram_min,
        "char_ngram_max": char_ngram_max,
        "word_ngram_max": word_ngram_max,
        "word_weight": word_weight,
        "cue_weight": cue_weight,
    }


def build_pipeline(model: dict[str, Any], heads: tuple[Head, ...] = HEADS) -> Language:
    """A blank Dutch pipeline with one untrained textcat per head."""
    import spacy

    import nlp.architecture  # noqa: F401  (registers the architecture)

    pipeline = spacy.blank(LANGUAGE)
    for head in heads:
        pipeline.add_pipe("textcat", name=head.name, config={"model": model})
    return pipeline
