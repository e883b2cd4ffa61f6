"""Training is reproducible and refuses a corpus that breaks the taxonomy's rules."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from nlp.classifier import Classifier
from nlp.corpus import CorpusError, LabelledMessage, data_hash, read_corpus
from nlp.training import TrainConfig, threshold_folds, train_model

# A tiny corpus written for this test only; enough for every head to have two labels.
TINY_CORPUS = [
    ("Er is ingebroken in de schuur op nr 3", "signaal", "inbraak", False),
    ("Ze zijn NU binnen bij de buren, bel 112!!", "signaal", "inbraak", True),
    ("Mijn fiets is gestolen bij de bakker", "signaal", "diefstal", False),
    ("Rook uit het dak van de school, brand!!", "signaal", "brand", True),
    ("Man kijkt in alle auto's in de straat", "signaal", "verdacht", False),
    ("Iemand probeert nu over het hek te klimmen bij nr 9", "signaal", "verdacht", True),
    ("Politie is geweest, jongen aangehouden", "terugkoppeling", "verdacht", False),
    ("Gemeente heeft de lamp gemaakt", "terugkoppeling", "openbare_ruimte", False),
    ("Eerst 112 bellen, dan pas appen", "afspraak", None, False),
    ("Geen foto's van mensen in de groep", "afspraak", None, False),
    ("Donderdag schouw met de wijkagent", "activiteit", None, False),
    ("Ik kom ook naar de infoavond", "activiteit", None, False),
    ("Idee: een rooster voor avondrondes?", "idee", None, False),
    ("Zullen we een bord bij de ingang zetten?", "idee", None, False),
    ("Goedemorgen allemaal", "overig", None, False),
    ("Top, bedankt!", "overig", None, False),
]
FAST = TrainConfig(epochs=3, hash_length=2**10, urgent_cv_folds=2)


def write_corpus(directory: Path, rows: list[tuple[str, str, str | None, bool]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"text": t, "kind": k, "category": c, "urgent": u}, ensure_ascii=False)
        for t, k, c, u in rows
    ]
    half = len(lines) // 2
    (directory / "b.jsonl").write_text("\n".join(lines[:half]) + "\n", encoding="utf-8")
    (directory / "a.jsonl").write_text("\n".join(lines[half:]) + "\n\n", encoding="utf-8")
    return directory


def model_files(model_dir: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(model_dir)): path.read_bytes()
        for path in sorted(model_dir.rglob("*"))
        if path.is_file()
    }


def test_training_twice_gives_the_same_model_byte_for_byte(tmp_path: Path) -> None:
    train_dir = write_corpus(tmp_path / "train", TINY_CORPUS)
    first = train_model(train_dir, tmp_path / "one", FAST)
    second = train_model(train_dir, tmp_path / "two", FAST)
    assert first.version == second.version
    assert first.data_hash == second.data_hash == data_hash(train_dir, FAST.as_dict())
    assert model_files(first.model_dir) == model_files(second.model_dir)
    loaded = Classifier.load(first.model_dir)
    assert loaded.version == first.version
    assert loaded.classify("Inbraak in de schuur").kind in {"signaal", "terugkoppeling"}


def test_data_hash_follows_data_and_config(tmp_path: Path) -> None:
    train_dir = write_corpus(tmp_path / "train", TINY_CORPUS)
    before = data_hash(train_dir, FAST.as_dict())
    assert data_hash(train_dir, dataclasses.replace(FAST, seed=99).as_dict()) != before
    with (train_dir / "a.jsonl").open("a", encoding="utf-8") as corpus:
        corpus.write(
            json.dumps({"text": "hoi", "kind": "overig", "category": None, "urgent": False}) + "\n"
        )
    assert data_hash(train_dir, FAST.as_dict()) != before


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"text": "x", "kind": "praatje", "category": None, "urgent": False}, "unknown kind"),
        ({"text": "x", "kind": "signaal", "category": None, "urgent": False}, "needs a category"),
        ({"text": "x", "kind": "idee", "category": "brand", "urgent": False}, "takes no category"),
        ({"text": "x", "kind": "overig", "category": None, "urgent": True}, "only a signaal"),
        ({"text": 3, "kind": "overig", "category": None, "urgent": False}, "'text'"),
        ({"text": "x", "kind": "overig", "category": None, "urgent": "ja"}, "'urgent'"),
    ],
)
def test_corpus_lines_that_break_the_taxonomy_are_refused(
    tmp_path: Path, record: dict[str, object], problem: str
) -> None:
    (tmp_path / "c.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=problem) as raised:
        read_corpus(tmp_path)
    assert "c.jsonl:1" in str(raised.value)


def _signals(sources: list[str]) -> list[LabelledMessage]:
    return [
        LabelledMessage(f"bericht {i}", "signaal", "inbraak", i % 3 == 0, source)
        for i, source in enumerate(sources)
    ]


def test_urgency_threshold_folds_are_whole_files_when_there_are_enough() -> None:
    signals = _signals(["a.jsonl"] * 7 + ["b.jsonl"] * 5 + ["c.jsonl"] * 4 + ["d.jsonl"] * 2)
    folds, per_file = threshold_folds(signals, 3, seed=1)
    assert per_file
    fold_of_file: dict[str, set[int]] = {}
    for message, fold in zip(signals, folds, strict=True):
        fold_of_file.setdefault(message.source, set()).add(fold)
    # Every writer's batch is scored by a model that saw none of it.
    assert all(len(found) == 1 for found in fold_of_file.values())
    assert set(folds) == {0, 1, 2}


def test_urgency_threshold_folds_fall_back_to_stratified_for_few_files() -> None:
    signals = _signals(["a.jsonl"] * 12 + ["b.jsonl"] * 6)
    folds, per_file = threshold_folds(signals, 3, seed=1)
    assert not per_file
    # Both files and the urgent signals are spread over every fold.
    assert {f for m, f in zip(signals, folds, strict=True) if m.urgent} == {0, 1, 2}
    assert {f for m, f in zip(signals, folds, strict=True) if m.source == "b.jsonl"} == {0, 1, 2}
