"""Scoring the classifier against a labelled set: per-label P/R/F1, macro-F1, confusion.

Kind and urgency are scored end to end, as the bot would label each message. Category is
scored on the messages whose true kind is signaal or terugkoppeling, with the category
head's own prediction, so that a kind error is not counted a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from nlp.classifier import Classifier
from nlp.corpus import LabelledMessage
from nlp.labels import CATEGORIES, KINDS, KINDS_WITH_CATEGORY


@dataclass(frozen=True, slots=True)
class LabelScore:
    """Precision, recall and F1 of one label."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class TaskReport:
    """Scores of one exclusive label set (kind or category)."""

    labels: tuple[str, ...]
    per_label: tuple[LabelScore, ...]
    macro_f1: float
    accuracy: float
    messages: int
    # confusion[i][j]: messages with true label labels[i] predicted as labels[j].
    confusion: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class UrgencyReport:
    """Scores of the urgent flag over all messages."""

    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int


@dataclass(frozen=True, slots=True)
class ReviewReport:
    """How many results were marked for review, and how often each group has the kind right."""

    marked: int
    kind_accuracy_marked: float
    kind_accuracy_unmarked: float


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The full evaluation of one model on one labelled set."""

    model_version: str
    messages: int
    kind: TaskReport
    category: TaskReport
    urgent: UrgencyReport
    review: ReviewReport

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able values."""
        return asdict(self)


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score_task(labels: Sequence[str], truth: Sequence[str], predicted: Sequence[str]) -> TaskReport:
    """Score one exclusive task. Macro-F1 averages the labels that occur in truth or
    prediction: a label absent from both says nothing about the model."""
    index = {label: i for i, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for true_label, predicted_label in zip(truth, predicted, strict=True):
        confusion[index[true_label]][index[predicted_label]] += 1
    scores = []
    seen = []
    for i, label in enumerate(labels):
        support = sum(confusion[i])
        predicted_count = sum(row[i] for row in confusion)
        precision = _ratio(confusion[i][i], predicted_count)
        recall = _ratio(confusion[i][i], support)
        score = LabelScore(label, precision, recall, _f1(precision, recall), support)
        scores.append(score)
        if support or predicted_count:
            seen.append(score)
    correct = sum(confusion[i][i] for i in range(len(labels)))
    return TaskReport(
        labels=tuple(labels),
        per_label=tuple(scores),
        macro_f1=sum(s.f1 for s in seen) / len(seen) if seen else 0.0,
        accuracy=_ratio(correct, len(truth)),
        messages=len(truth),
        confusion=tuple(tuple(row) for row in confusion),
    )


def score_urgency(truth: Sequence[bool], predicted: Sequence[bool]) -> UrgencyReport:
    """Precision and recall of the urgent flag."""
    pairs = list(zip(truth, predicted, strict=True))
    tp = sum(t and p for t, p in pairs)
    fp = sum(p and not t for t, p in pairs)
    fn = sum(t and not p for t, p in pairs)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return UrgencyReport(precision, recall, _f1(precision, recall), tp, fp, fn)


def evaluate(classifier: Classifier, messages: Sequence[LabelledMessage]) -> Evaluation:
    """Label `messages` with `classifier` and score the result."""
    texts = [message.text for message in messages]
    results = classifier.classify_batch(texts)
    kind = score_task(KINDS, [m.kind for m in messages], [r.kind for r in results])

    with_category = [i for i, m in enumerate(messages) if m.kind in KINDS_WITH_CATEGORY]
    category_truth = [messages[i].category or "" for i in with_category]
    category_predicted: list[str] = []
    if with_category:
        category_scores = classifier.scores([texts[i] for i in with_category]).category
        category_predicted = [CATEGORIES[column] for column in category_scores.argmax(axis=1)]
    category = score_task(CATEGORIES, category_truth, category_predicted)

    urgent = score_urgency([m.urgent for m in messages], [r.urgent for r in results])

    right = [m.kind == r.kind for m, r in zip(messages, results, strict=True)]
    marked = [ok for ok, r in zip(right, results, strict=True) if r.needs_review]
    unmarked = [ok for ok, r in zip(right, results, strict=True) if not r.needs_review]
    review = ReviewReport(
        marked=len(marked),
        kind_accuracy_marked=_ratio(sum(marked), len(marked)),
        kind_accuracy_unmarked=_ratio(sum(unmarked), len(unmarked)),
    )
    return Evaluation(classifier.version, len(messages), kind, category, urgent, review)
