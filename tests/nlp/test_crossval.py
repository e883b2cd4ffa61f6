"""Cross-validation scores every training message once, with a model that never saw it."""

from __future__ import annotations

from collections import Counter

import numpy as np

from nlp.corpus import LabelledMessage, file_folds
from nlp.crossval import cross_validate, out_of_fold, stratified_folds
from tests.nlp.test_training import FAST, TINY_CORPUS

MESSAGES = [LabelledMessage(t, k, c, u) for t, k, c, u in TINY_CORPUS]


def test_folds_deal_each_label_evenly_and_the_same_way_every_time() -> None:
    folds = stratified_folds(MESSAGES, 2, seed=1234)
    assert np.array_equal(folds, stratified_folds(MESSAGES, 2, seed=1234))
    per_fold = Counter(int(fold) for fold in folds)
    assert per_fold[0] == per_fold[1] == len(MESSAGES) // 2
    for kind in {m.kind for m in MESSAGES}:
        of_kind = Counter(int(f) for m, f in zip(MESSAGES, folds, strict=True) if m.kind == kind)
        assert abs(of_kind[0] - of_kind[1]) <= 1


def test_every_message_gets_out_of_fold_probabilities() -> None:
    oof = out_of_fold(MESSAGES, FAST, folds=2)
    assert len(oof.messages) == len(MESSAGES)
    for scores in (oof.kind, oof.category):
        assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-4)
    assert ((oof.urgent >= 0) & (oof.urgent <= 1)).all()


def test_cross_validation_reports_the_dev_measures() -> None:
    result = cross_validate(MESSAGES, FAST, folds=2)
    assert result.messages == len(MESSAGES)
    assert result.kind.messages == len(MESSAGES)
    assert result.category.messages == sum(
        m.kind in ("signaal", "terugkoppeling") for m in MESSAGES
    )
    assert 0.0 <= result.kind.macro_f1 <= 1.0
    assert 0.0 < result.urgent_threshold <= 0.5


def test_file_folds_keep_every_file_whole_and_balance_the_folds() -> None:
    sources = ["a.jsonl"] * 6 + ["b.jsonl"] * 4 + ["c.jsonl"] * 3 + ["d.jsonl"] * 3
    messages = [
        LabelledMessage(m.text, m.kind, m.category, m.urgent, source)
        for m, source in zip(MESSAGES, sources, strict=False)
    ]
    folds = file_folds(messages, 2)
    for source in set(sources):
        assert (
            len({int(f) for m, f in zip(messages, folds, strict=True) if m.source == source}) == 1
        )
    # Largest first, each to the smaller fold: a (6) | b (4), then c (3) joins b, d (3) joins a.
    assert Counter(int(f) for f in folds) == {0: 9, 1: 7}


def test_file_folds_need_as_many_files_as_folds() -> None:
    import pytest

    with pytest.raises(ValueError, match="2 files cannot make 3 folds"):
        file_folds(
            [
                LabelledMessage("a", "overig", None, False, "x.jsonl"),
                LabelledMessage("b", "overig", None, False, "y.jsonl"),
            ],
            3,
        )
