"""The classifier API the bot uses: load the shipped model once, label texts with it.

    from nlp.classifier import get_classifier
    result = get_classifier().classify("Verdachte man bij de Lijsterstraat")

Every `str` gets a label (anything else is a TypeError): the text is normalised first (NFKC,
no control characters, capped length). Empty or whitespace-only text is `overig` with
confidence 1.0 and needs no review: there is nothing in it for a coordinator to confirm.

`confidence` is the kind head's probability, times the category head's where the kind has
a category. Below the model's review threshold (recorded with the model, 0.5) a result is
marked `needs_review` so that a coordinator confirms it. `urgent` is only ever true for a
signaal whose urgency probability reaches the threshold chosen at training time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nlp.labels import (
    CATEGORIES,
    KINDS,
    KINDS_THAT_CAN_BE_URGENT,
    KINDS_WITH_CATEGORY,
    URGENCY_LABELS,
    URGENT,
)
from nlp.normalise import normalise_text
from nlp.paths import MODEL_DIR
from nlp.pipeline import CATEGORY_HEAD, KIND_HEAD, URGENT_HEAD

if TYPE_CHECKING:
    from spacy.language import Language

    from nlp.architecture import Features

# Texts are run through the model in chunks of this size: bounded memory for any batch.
_CHUNK = 1024
_EMPTY_KIND = "overig"


class ModelError(RuntimeError):
    """The model directory is missing or does not match the taxonomy."""


@dataclass(frozen=True, slots=True)
class Classification:
    """The labels of one message, how sure the model is, and whether a human should confirm."""

    kind: str
    category: str | None
    urgent: bool
    confidence: float
    needs_review: bool
    model_version: str


@dataclass(frozen=True, slots=True)
class HeadScores:
    """Raw probabilities of each head for a batch, columns in taxonomy order.

    `category` is the category head's opinion for every text, also where the kind has no
    category; evaluation scores the heads separately with it.
    """

    kind: np.ndarray
    category: np.ndarray
    urgent: np.ndarray


def read_model_meta(path: Path | None = None) -> dict[str, Any]:
    """The buurtbot block of a model's meta.json (version, data hash, thresholds, config)."""
    meta_path = (path or MODEL_DIR) / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        block = meta["buurtbot"]
    except (OSError, ValueError, KeyError) as error:
        raise ModelError(f"no buurtbot model at {meta_path.parent}: {error}") from error
    if not isinstance(block, dict):
        raise ModelError(f"malformed buurtbot block in {meta_path}")
    return block


def _columns(pipeline: Language, name: str, wanted: Sequence[str]) -> np.ndarray:
    """Column indices of the `wanted` labels in a component's output."""
    labels = tuple(pipeline.get_pipe(name).labels)  # type: ignore[attr-defined]
    expected = {KIND_HEAD.name: KINDS, CATEGORY_HEAD.name: CATEGORIES}.get(name, URGENCY_LABELS)
    if sorted(labels) != sorted(expected):
        raise ModelError(f"{name} has labels {labels}, expected {tuple(expected)}")
    return np.array([labels.index(label) for label in wanted])


class Classifier:
    """Labels messages with kind, category and urgency. Thread-safe for classification."""

    version: str

    def __init__(
        self,
        pipeline: Language,
        *,
        version: str,
        urgent_threshold: float,
        review_threshold: float,
    ) -> None:
        from nlp import architecture

        self._pipeline = pipeline
        self.version = version
        self.urgent_threshold = urgent_threshold
        self.review_threshold = review_threshold
        self._models = [
            pipeline.get_pipe(head.name).model  # type: ignore[attr-defined]
            for head in (KIND_HEAD, CATEGORY_HEAD, URGENT_HEAD)
        ]
        # Columns that put each head's labels in taxonomy order; urgency keeps P(urgent).
        self._columns = [
            _columns(pipeline, KIND_HEAD.name, KINDS),
            _columns(pipeline, CATEGORY_HEAD.name, CATEGORIES),
            _columns(pipeline, URGENT_HEAD.name, (URGENT,)),
        ]
        try:
            self._settings = architecture.shared_settings(self._models)
        except ValueError as error:
            raise ModelError(f"unexpected model structure: {error}") from error
        self._has_category = np.array([kind in KINDS_WITH_CATEGORY for kind in KINDS])
        self._can_be_urgent = np.array([kind in KINDS_THAT_CAN_BE_URGENT for kind in KINDS])
        self._empty = Classification(
            kind=_EMPTY_KIND,
            category=None,
            urgent=False,
            confidence=1.0,
            needs_review=False,
            model_version=version,
        )

    @classmethod
    def load(cls, path: Path | None = None) -> Classifier:
        """Load a trained model; by default the one shipped in nlp/model."""
        model_dir = path or MODEL_DIR
        meta = read_model_meta(model_dir)
        import spacy

        import nlp.architecture  # noqa: F401  (registers the architecture spacy.load needs)

        pipeline = spacy.load(model_dir)
        return cls(
            pipeline,
            version=str(meta["version"]),
            urgent_threshold=float(meta["urgent_threshold"]),
            review_threshold=float(meta["review_threshold"]),
        )

    def classify(self, text: str) -> Classification:
        """Label one message."""
        return self.classify_batch([text])[0]

    def classify_batch(self, texts: Sequence[str]) -> list[Classification]:
        """Label a batch of messages; faster per message than one at a time."""
        results: list[Classification] = []
        for start in range(0, len(texts), _CHUNK):
            results.extend(self._classify_chunk(texts[start : start + _CHUNK]))
        return results

    def scores(self, texts: Sequence[str]) -> HeadScores:
        """Each head's probabilities for `texts` (normalised first); for evaluation."""
        normalised = [_normalised(text) for text in texts]
        features = self._featurise(normalised)
        kind, category, urgent = (self._predict(head, features) for head in range(3))
        return HeadScores(kind=kind, category=category, urgent=urgent[:, 0])

    def _featurise(self, normalised: Sequence[str]) -> Features:
        from nlp.architecture import featurise

        return featurise(normalised, **self._settings)

    def _predict(self, head: int, features: Features) -> np.ndarray:
        """Probabilities of one head (0 kind, 1 category, 2 urgent), in taxonomy order."""
        from nlp.architecture import predict_features

        probabilities = np.asarray(predict_features(self._models[head], features))
        return probabilities[:, self._columns[head]]

    def _classify_chunk(self, texts: Sequence[str]) -> list[Classification]:
        from nlp.architecture import select_docs

        normalised = [_normalised(text) for text in texts]
        filled = [i for i, text in enumerate(normalised) if text]
        results = [self._empty] * len(texts)
        if not filled:
            return results
        features = self._featurise([normalised[i] for i in filled])
        kind_probabilities = self._predict(0, features)
        kind_index = kind_probabilities.argmax(axis=1)
        confidence = kind_probabilities[np.arange(len(filled)), kind_index]
        # Only the rows that need them go through the category and urgency heads.
        category_index = np.full(len(filled), -1)
        with_category = np.flatnonzero(self._has_category[kind_index])
        if len(with_category):
            category = self._predict(1, select_docs(features, with_category))
            category_index[with_category] = category.argmax(axis=1)
            # The chance that both labels are right, taking the heads as independent.
            confidence[with_category] *= category.max(axis=1)
        urgent = np.zeros(len(filled), dtype=bool)
        can_be_urgent = np.flatnonzero(self._can_be_urgent[kind_index])
        if len(can_be_urgent):
            p_urgent = self._predict(2, select_docs(features, can_be_urgent))[:, 0]
            urgent[can_be_urgent] = p_urgent >= self.urgent_threshold
        rows = zip(
            filled,
            kind_index.tolist(),
            category_index.tolist(),
            urgent.tolist(),
            confidence.tolist(),
            strict=True,
        )
        for i, kind, category, is_urgent, sure in rows:
            rounded = round(sure, 4)
            results[i] = Classification(
                kind=KINDS[kind],
                category=CATEGORIES[category] if category >= 0 else None,
                urgent=is_urgent,
                confidence=rounded,
                needs_review=rounded < self.review_threshold,
                model_version=self.version,
            )
        return results


def _normalised(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    return normalise_text(text)


_shared: Classifier | None = None
_shared_lock = threading.Lock()


def get_classifier() -> Classifier:
    """The process-wide classifier on the shipped model, loaded on first use."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = Classifier.load()
    return _shared
