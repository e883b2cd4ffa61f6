"""`buurtbot nlp evaluate` reports per-label scores, macro-F1 and urgency on the dev set."""

from __future__ import annotations

import json

import pytest

from nlp.evaluation import score_task, score_urgency
from tests.nlp.conftest import RunCommand


def test_evaluate_prints_macro_f1_for_kind_and_category(run_buurtbot: RunCommand) -> None:
    output = run_buurtbot("nlp", "evaluate").stdout.decode("utf-8")
    assert "macro-F1 kind:" in output
    assert "macro-F1 category:" in output
    assert "Urgent" in output
    assert "Verwarringsmatrix soort" in output


def test_evaluate_json_is_machine_readable(run_buurtbot: RunCommand) -> None:
    report = json.loads(run_buurtbot("nlp", "evaluate", "--json").stdout)
    assert 0.0 <= report["kind"]["macro_f1"] <= 1.0
    assert 0.0 <= report["category"]["macro_f1"] <= 1.0
    assert {"precision", "recall"} <= set(report["urgent"])
    assert len(report["kind"]["confusion"]) == 6
    assert len(report["category"]["confusion"]) == 10


def test_macro_f1_averages_the_labels_that_occur() -> None:
    report = score_task(("a", "b", "c"), truth=["a", "a", "b", "b"], predicted=["a", "b", "b", "b"])
    assert report.confusion == ((1, 1, 0), (0, 2, 0), (0, 0, 0))
    a, b, _ = report.per_label
    assert (a.precision, a.recall) == (1.0, 0.5)
    assert (b.precision, b.recall) == (pytest.approx(2 / 3), 1.0)
    assert report.macro_f1 == pytest.approx((a.f1 + b.f1) / 2)  # "c" never occurs
    assert report.accuracy == 0.75


def test_urgency_precision_and_recall() -> None:
    report = score_urgency([True, True, False, False], [True, False, True, False])
    assert (report.precision, report.recall) == (0.5, 0.5)
    assert (report.true_positives, report.false_positives, report.false_negatives) == (1, 1, 1)
