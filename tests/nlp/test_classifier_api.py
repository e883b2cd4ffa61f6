"""The Python API: any str gets a typed, versioned label; bad input fails clearly."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from nlp.classifier import Classification, Classifier, get_classifier, read_model_meta
from nlp.labels import CATEGORIES, KINDS, KINDS_WITH_CATEGORY
from nlp.normalise import MAX_TEXT_CHARS, normalise_text

ODD_TEXTS = [
    "a",
    "?",
    "!!!",
    "112",
    "🚨",
    "x" * 1_000_000,
    "woord " * 50_000,
    "\x00\x01\x02\x7f",
    "\ud800\udfff",
    "\u200b\u200d\u2060",
    "ﷺ" * 10_000,
    "שלום לכולם",
    "こんにちは",
    "\n\t\r\x0b\x0c",
    "\U0001f3f3\ufe0f\u200d\U0001f308",
]


def assert_valid(result: Classification, version: str) -> None:
    assert result.kind in KINDS
    assert (result.category in CATEGORIES) == (result.kind in KINDS_WITH_CATEGORY)
    if result.kind not in KINDS_WITH_CATEGORY:
        assert result.category is None
    assert isinstance(result.urgent, bool)
    assert not result.urgent or result.kind == "signaal"
    assert 0.0 <= result.confidence <= 1.0
    assert isinstance(result.needs_review, bool)
    assert result.model_version == version


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_any_text_gets_a_valid_label(classifier: Classifier, text: str) -> None:
    assert_valid(classifier.classify(text), classifier.version)


@pytest.mark.parametrize("text", ["", " ", "\n\n", "\t \u3000 ", "\x00", "\u200b"])
def test_empty_text_is_overig_with_full_confidence(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert (result.kind, result.category, result.urgent) == ("overig", None, False)
    assert result.confidence == 1.0
    assert not result.needs_review


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["list"]])
def test_non_string_input_raises_type_error(classifier: Classifier, bad: Any) -> None:
    with pytest.raises(TypeError, match="text must be a str"):
        classifier.classify(bad)
    with pytest.raises(TypeError, match="text must be a str"):
        classifier.classify_batch(["ok", bad])


def test_batch_gives_the_same_labels_as_one_by_one(classifier: Classifier) -> None:
    texts = [*ODD_TEXTS, "", "Inbraak bij nr 5", "Wie komt er donderdag?"] * 3
    assert classifier.classify_batch(texts) == [classifier.classify(t) for t in texts]


def test_empty_batch_gives_empty_list(classifier: Classifier) -> None:
    assert classifier.classify_batch([]) == []


def test_result_is_frozen(classifier: Classifier) -> None:
    result = classifier.classify("hallo")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.kind = "signaal"  # type: ignore[misc]


def test_version_is_the_shipped_model_version(classifier: Classifier) -> None:
    meta = read_model_meta()
    assert classifier.version == meta["version"]
    assert meta["data_hash"].startswith(classifier.version.split("+")[1])


def test_get_classifier_is_one_shared_instance() -> None:
    assert get_classifier() is get_classifier()


def test_low_confidence_results_are_marked_for_review(classifier: Classifier) -> None:
    results = classifier.classify_batch([*ODD_TEXTS, "Inbraak bij nr 5"])
    for result in results:
        assert result.needs_review == (result.confidence < classifier.review_threshold)


def test_normalisation_is_nfkc_without_control_characters_and_capped() -> None:
    assert normalise_text("Ｆｉｅｔｓ\tweg\x00!\u200b") == "Fiets weg !"
    assert normalise_text("  veel   ruimte \n ") == "veel ruimte"
    assert len(normalise_text("ab " * 10_000)) <= MAX_TEXT_CHARS
    assert normalise_text("\ud800") == ""
