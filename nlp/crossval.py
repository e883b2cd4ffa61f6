"""K-fold cross-validation on the training data: model selection without looking at dev.

Every training message is scored once by a model trained on the other folds; the out-of-fold
scores give kind and category macro-F1 and the urgency precision/recall the bot would see.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nlp.classifier import Classifier
from nlp.corpus import LabelledMessage, file_folds
from nlp.evaluation import TaskReport, UrgencyReport, score_task, score_urgency
from nlp.labels import CATEGORIES, KINDS, KINDS_THAT_CAN_BE_URGENT, KINDS_WITH_CATEGORY
from nlp.normalise import normalise_text
from nlp.pipeline import HEADS, build_pipeline
from nlp.training import Report, TrainConfig, train_head, urgent_threshold_for_recall


@dataclass(frozen=True, slots=True)
class OutOfFold:
    """Each head's out-of-fold probabilities for every message (taxonomy column order)."""

    messages: tuple[LabelledMessage, ...]
    kind: np.ndarray
    category: np.ndarray
    urgent: np.ndarray
    fold: np.ndarray


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Out-of-fold scores, as `buurtbot nlp evaluate` reports them on dev."""

    folds: int
    messages: int
    kind: TaskReport
    category: TaskReport
    urgent: UrgencyReport
    urgent_threshold: float


def stratified_folds(messages: Sequence[LabelledMessage], folds: int, seed: int) -> np.ndarray:
    """The fold of each message: shuffled, then dealt round-robin within each label triple."""
    order = list(range(len(messages)))
    random.Random(seed).shuffle(order)
    order.sort(key=lambda i: (messages[i].kind, messages[i].category or "", messages[i].urgent))
    fold = np.zeros(len(messages), dtype=np.int64)
    for rank, i in enumerate(order):
        fold[i] = rank % folds
    return fold


def out_of_fold(
    messages: Sequence[LabelledMessage],
    config: TrainConfig,
    folds: int = 5,
    report: Report | None = None,
    per_file: bool = False,
) -> OutOfFold:
    """Train on all folds but one, score the one left out, for every fold. With `per_file`,
    folds are whole corpus files (`file_folds`) instead of stratified by label."""
    kept = tuple(m for m in messages if normalise_text(m.text))
    fold = file_folds(kept, folds) if per_file else stratified_folds(kept, folds, config.seed)
    kind = np.zeros((len(kept), len(KINDS)), dtype=np.float32)
    category = np.zeros((len(kept), len(CATEGORIES)), dtype=np.float32)
    urgent = np.zeros(len(kept), dtype=np.float32)
    for index in range(folds):
        rest = [m for m, f in zip(kept, fold, strict=True) if f != index]
        held_out = np.flatnonzero(fold == index)
        pipeline = build_pipeline(config.model())
        for head in HEADS:
            train_head(pipeline, head, rest, config)
        classifier = Classifier(
            pipeline,
            version="cv",
            urgent_threshold=0.5,
            review_threshold=config.review_threshold,
        )
        scores = classifier.scores([kept[i].text for i in held_out])
        kind[held_out], category[held_out], urgent[held_out] = (
            scores.kind,
            scores.category,
            scores.urgent,
        )
        if report is not None:
            report(f"fold {index + 1}/{folds} done ({len(held_out)} messages)")
    return OutOfFold(kept, kind, category, urgent, fold)


def score_out_of_fold(oof: OutOfFold, recall_target: float) -> CrossValidation:
    """Score out-of-fold predictions the way the evaluation scores dev.

    The urgency threshold is the highest one whose out-of-fold recall on the urgent signals
    reaches `recall_target` (as training chooses it); urgency is then scored end to end,
    only where the predicted kind can be urgent.
    """
    messages = oof.messages
    predicted_kind = [KINDS[i] for i in oof.kind.argmax(axis=1)]
    kind = score_task(KINDS, [m.kind for m in messages], predicted_kind)
    rows = [i for i, m in enumerate(messages) if m.kind in KINDS_WITH_CATEGORY]
    category = score_task(
        CATEGORIES,
        [messages[i].category or "" for i in rows],
        [CATEGORIES[j] for j in oof.category[rows].argmax(axis=1)],
    )
    urgent_scores = [float(p) for p, m in zip(oof.urgent, messages, strict=True) if m.urgent]
    threshold = urgent_threshold_for_recall(urgent_scores, recall_target)
    flagged = [
        k in KINDS_THAT_CAN_BE_URGENT and float(p) >= threshold
        for k, p in zip(predicted_kind, oof.urgent, strict=True)
    ]
    urgent = score_urgency([m.urgent for m in messages], flagged)
    return CrossValidation(
        folds=int(oof.fold.max()) + 1,
        messages=len(messages),
        kind=kind,
        category=category,
        urgent=urgent,
        urgent_threshold=threshold,
    )


def cross_validate(
    messages: Sequence[LabelledMessage],
    config: TrainConfig,
    folds: int = 5,
    report: Report | None = None,
    per_file: bool = False,
) -> CrossValidation:
    """K-fold cross-validation of `config` on `messages` (folds of whole files with
    `per_file`)."""
    oof = out_of_fold(messages, config, folds, report, per_file)
    return score_out_of_fold(oof, config.urgent_recall_target)
