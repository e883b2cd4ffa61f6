"""Reading the labelled message corpus (nlp/data/*/*.jsonl) and fingerprinting it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlp.labels import CATEGORIES, KINDS, KINDS_THAT_CAN_BE_URGENT, KINDS_WITH_CATEGORY


class CorpusError(ValueError):
    """A corpus file holds a line that is not a valid labelled message."""


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    """One message of the corpus with its three labels."""

    text: str
    kind: str
    category: str | None
    urgent: bool
    # The corpus file it comes from (one writer, one batch of voices); empty when unknown.
    source: str = ""


def corpus_files(directory: Path) -> list[Path]:
    """The corpus files of a directory, in the fixed (sorted by name) order used everywhere."""
    return sorted(directory.glob("*.jsonl"), key=lambda path: path.name)


def _parse(record: Any, where: str, source: str = "") -> LabelledMessage:
    if not isinstance(record, dict):
        raise CorpusError(f"{where}: expected a JSON object")
    text, kind, category, urgent = (
        record.get(key) for key in ("text", "kind", "category", "urgent")
    )
    if not isinstance(text, str):
        raise CorpusError(f"{where}: 'text' must be a string")
    if kind not in KINDS:
        raise CorpusError(f"{where}: unknown kind {kind!r}")
    if kind in KINDS_WITH_CATEGORY and category not in CATEGORIES:
        raise CorpusError(f"{where}: kind {kind!r} needs a category, got {category!r}")
    if kind not in KINDS_WITH_CATEGORY and category is not None:
        raise CorpusError(f"{where}: kind {kind!r} takes no category, got {category!r}")
    if not isinstance(urgent, bool):
        raise CorpusError(f"{where}: 'urgent' must be true or false")
    if urgent and kind not in KINDS_THAT_CAN_BE_URGENT:
        raise CorpusError(f"{where}: only a signaal can be urgent, not a {kind!r}")
    return LabelledMessage(text=text, kind=kind, category=category, urgent=urgent, source=source)


def read_corpus(directory: Path) -> list[LabelledMessage]:
    """All labelled messages of a directory's .jsonl files; blank lines are skipped."""
    files = corpus_files(directory)
    if not files:
        raise CorpusError(f"no .jsonl files in {directory}")
    messages = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise CorpusError(f"{where}: invalid JSON ({error.msg})") from error
            messages.append(_parse(record, where, path.name))
    return messages


def data_hash(directory: Path, config: Mapping[str, Any]) -> str:
    """sha256 over the training files (name and bytes, sorted by name) and the train config.

    The shipped model records this value; when the data or the config change, the
    model is stale and must be retrained.
    """
    digest = hashlib.sha256()
    for path in corpus_files(directory):
        content = path.read_bytes()
        digest.update(f"file {path.name} {len(content)}\n".encode())
        digest.update(content)
    canonical = json.dumps(dict(config), sort_keys=True, separators=(",", ":"))
    digest.update(f"config {canonical}\n".encode())
    return digest.hexdigest()


def file_folds(messages: Sequence[LabelledMessage], folds: int) -> np.ndarray:
    """The fold of each message, whole files at a time: the largest file goes to the smallest
    fold, then the next, so folds come out about equal in size.

    A file is one writer's batch in one set of voices; a model scored on files it never saw a
    line of is judged as on messages no one on the team has seen (as dev is), not on siblings
    of its own training lines.
    """
    sizes: dict[str, int] = {}
    for message in messages:
        sizes[message.source] = sizes.get(message.source, 0) + 1
    if len(sizes) < folds:
        raise ValueError(f"{len(sizes)} files cannot make {folds} folds")
    fold_of_file: dict[str, int] = {}
    fold_sizes = [0] * folds
    for source, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0])):
        smallest = fold_sizes.index(min(fold_sizes))
        fold_of_file[source] = smallest
        fold_sizes[smallest] += size
    return np.array([fold_of_file[m.source] for m in messages], dtype=np.int64)
