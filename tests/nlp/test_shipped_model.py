"""The shipped model is the one the current training data and config produce, and is small."""

from __future__ import annotations

from nlp.classifier import read_model_meta
from nlp.corpus import corpus_files, data_hash
from nlp.paths import MODEL_DIR, TRAIN_DIR
from nlp.training import TrainConfig, model_version

MAX_MODEL_BYTES = 15 * 1024 * 1024


def test_shipped_model_is_trained_on_the_current_data_and_config() -> None:
    meta = read_model_meta()
    config = TrainConfig()
    current = data_hash(TRAIN_DIR, config.as_dict())
    assert meta["data_hash"] == current, (
        "nlp/model is stale: the training data or config changed since it was trained. "
        "Run `buurtbot nlp train` and commit nlp/model."
    )
    assert meta["version"] == model_version(config, current)
    assert meta["train_files"] == [path.name for path in corpus_files(TRAIN_DIR)]


def test_shipped_model_is_small() -> None:
    size = sum(path.stat().st_size for path in MODEL_DIR.rglob("*") if path.is_file())
    assert size < MAX_MODEL_BYTES
