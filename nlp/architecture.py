"""The text classifier model: hashed n-grams and domain cues into one sparse linear layer.

Registered in spaCy's registry as `buurtbot.CharNgramBOW.v1`; this module must be imported
before `spacy.load` reads a pipeline that uses it (`nlp.classifier` does so).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from spacy.strings import get_string_id
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, SparseLinear_v2
from thinc.types import Floats2d
from thinc.util import get_width

from nlp.cues import CUES, CueMatcher
from nlp.normalise import MAX_TEXT_CHARS

ARCHITECTURE = "buurtbot.CharNgramBOW.v1"
_MODEL_NAME = "buurtbot_char_ngram_bow"

Features = tuple[np.ndarray, np.ndarray, np.ndarray]  # keys (uint64), values (f32), lengths (i32)

# Markers in the batch string: documents are separated by NUL (so no n-gram spans two
# messages), and each message is framed by STX/ETX so that n-grams can see where a message
# starts ("idee:", "ik kom") and ends ("!!!"). Spaces around every word mark word edges.
_SEPARATOR = "\x00"
_START = "\x02 "
_END = " \x03"

# Digits all become 0: house numbers, times and plates generalise ("nr 12" ~ "nr 40").
# Markers that turn up in a text are neutralised, so they can never split or merge messages.
_CHAR_TABLE = str.maketrans(
    {**{d: "0" for d in "123456789"}, "\x00": " ", "\x02": " ", "\x03": " "}
)

# Multiplier of the polynomial rolling hash over code points (the 64-bit FNV prime); uint64
# arithmetic wraps, and thinc's SparseLinear mixes every key again with MurmurHash.
_PRIME = np.uint64(0x100000001B3)
_UNIGRAM_SALT = np.uint64(0x9E3779B97F4A7C15)
_BIGRAM_SALT = np.uint64(0xC2B2AE3D27D4EB4F)
# Words for the word n-grams and the capitals count: runs of letters and digits (with inner
# apostrophes), and every other visible character on its own (punctuation, emoji). One regex
# call per text, so classifying needs no spaCy tokenisation (a third of the time it took).
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|\S")
# A number: a word of digits only (house numbers; a time or a date is split at its separators).
_NUMBER = re.compile(r"\d+\Z")
_FEATURE_SETTINGS = (
    "char_ngram_min",
    "char_ngram_max",
    "word_ngram_max",
    "max_chars",
    "word_weight",
    "cue_weight",
)
_CUE_SALT = np.uint64(0x27D4EB2F165667C5)
_CUE_MATCHER = CueMatcher(CUES)
_N_CUES = len(_CUE_MATCHER.names)
_NOW = _CUE_MATCHER.names.index("urgent_now")
_PAST = _CUE_MATCHER.names.index("urgent_past")
# Ids of the features beyond the lexicons: "!!", an all-caps word, "now" without a past
# marker, and the crossings of the marks with the other cues.
_EXCLAIM, _CAPS, _NOW_NOT_PAST = _N_CUES, _N_CUES + 1, _N_CUES + 2
_CROSS = 1000
_NUMBER_KEY = 0x165667B19E3779F9
# Numbers become one word feature, except the emergency number, which means something.
_EMERGENCY_NUMBER = get_string_id("112")


def _char_ngrams(
    texts: Sequence[str], n_min: int, n_max: int, within_words: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Hash every character n-gram (n_min..n_max) of every text; return keys and doc index.

    With `within_words`, an n-gram may start or end at a space (the word's edge) but not
    have one inside, as in fastText. The whole batch is one code-point array, so the work
    is a handful of vectorised numpy operations per batch rather than Python work per
    n-gram. Keys come out grouped by doc.
    """
    joined = _SEPARATOR.join(f"{_START}{text}{_END}" for text in texts) + _SEPARATOR * n_max
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    codes = codes.astype(np.uint64)
    size = len(codes) - n_max
    is_separator = codes == 0
    separators_before = np.concatenate(([0], np.cumsum(is_separator, dtype=np.int64)))
    doc_of_position = separators_before[:size]
    spaces_before = np.concatenate(([0], np.cumsum(codes == 32, dtype=np.int64)))

    hashes = codes[:size].copy()
    keys_by_n = []
    valid_by_n = []
    for n in range(2, n_max + 1):
        hashes = hashes * _PRIME + codes[n - 1 : n - 1 + size]
        if n >= n_min:
            keys_by_n.append(hashes)
            # A window is valid when it contains no separator (and, within words, no
            # space other than at its two ends).
            valid = separators_before[n : n + size] == doc_of_position
            if within_words and n > 2:
                valid &= spaces_before[n - 1 : n - 1 + size] == spaces_before[1 : 1 + size]
            valid_by_n.append(valid)
    keys = np.stack(keys_by_n, axis=1)
    valid = np.stack(valid_by_n, axis=1)
    # Row-major boolean indexing keeps position order, so keys stay grouped by document.
    docs = np.broadcast_to(doc_of_position[:, None], valid.shape)[valid]
    return keys[valid], docs


def _words(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lower-cased word keys of every text (numbers folded into one key, except the
    emergency number), the doc index of each word, and the number of all-caps words per text."""
    keys: list[int] = []
    docs: list[int] = []
    upper = np.zeros(len(texts), dtype=np.int64)
    for doc, text in enumerate(texts):
        words = _WORD.findall(text)
        caps = 0
        for word in words:
            if _NUMBER.match(word):
                keys.append(_NUMBER_KEY if word != "112" else _EMERGENCY_NUMBER)
                continue
            if word.isupper():
                caps += 1
            keys.append(get_string_id(word.lower()))
        upper[doc] = caps
        docs.extend([doc] * len(words))
    return np.array(keys, dtype=np.uint64), np.array(docs, dtype=np.int64), upper


def _word_ngrams(
    words: np.ndarray, doc_of_word: np.ndarray, n_max: int
) -> tuple[np.ndarray, np.ndarray]:
    """Hash word unigrams (and bigrams within a doc when n_max >= 2); return keys, doc index."""
    unigrams = words ^ _UNIGRAM_SALT
    if n_max < 2 or len(words) == 0:
        return unigrams, doc_of_word
    bigrams = np.zeros_like(words)
    bigrams[:-1] = (words[:-1] * _PRIME + words[1:]) ^ _BIGRAM_SALT
    has_bigram = np.zeros(len(words), dtype=bool)
    has_bigram[:-1] = doc_of_word[:-1] == doc_of_word[1:]
    keys = np.stack([unigrams, bigrams], axis=1)
    valid = np.stack([np.ones(len(words), dtype=bool), has_bigram], axis=1)
    docs_of_keys = np.broadcast_to(doc_of_word[:, None], valid.shape)[valid]
    return keys[valid], docs_of_keys


def _cue_ids(text: str, upper: int) -> list[int]:
    """Cue hits of one doc, plus the marks of urgency and their crossings with the cues.

    A linear model cannot learn "now AND fire" from "now" and "fire" alone; the crossed
    features give it that conjunction for the few marks that signal "happening right now".
    """
    hits = _CUE_MATCHER.hits(text)
    marks = []
    if _NOW in hits:
        marks.append(_NOW)
        if _PAST not in hits:
            hits.append(_NOW_NOT_PAST)
    if "!!" in text:
        marks.append(_EXCLAIM)
        hits.append(_EXCLAIM)
    if upper:
        marks.append(_CAPS)
        hits.extend([_CAPS] * upper)
    others = {hit for hit in hits if hit < _N_CUES and hit != _NOW}
    hits.extend(_CROSS * (mark + 1) + other for mark in marks for other in others)
    return hits


def _cue_features(texts: Sequence[str], upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids: list[int] = []
    docs: list[int] = []
    for doc, (text, caps) in enumerate(zip(texts, upper.tolist(), strict=True)):
        hits = _cue_ids(text, caps)
        ids.extend(hits)
        docs.extend([doc] * len(hits))
    keys = (np.array(ids, dtype=np.uint64) + np.uint64(1)) * _PRIME ^ _CUE_SALT
    return keys, np.array(docs, dtype=np.int64)


def _merge(streams: Sequence[tuple[np.ndarray, np.ndarray, float]], n_docs: int) -> Features:
    """Interleave doc-grouped key streams into one, each doc's keys contiguous.

    A key's value is its stream's weight over the L2 norm of the doc's weights, so long
    and short messages produce scores on the same scale.
    """
    counts = [np.bincount(docs, minlength=n_docs) for _, docs, _ in streams]
    lengths = np.sum(counts, axis=0) if counts else np.zeros(n_docs, dtype=np.int64)
    squared = sum(
        (count * weight**2 for count, (_, _, weight) in zip(counts, streams, strict=True)),
        start=np.zeros(n_docs),
    )
    norm = np.sqrt(np.maximum(squared, 1e-12))
    total = int(lengths.sum())
    keys = np.empty(total, dtype=np.uint64)
    values = np.empty(total, dtype=np.float32)
    offset = np.cumsum(lengths) - lengths
    for count, (stream_keys, docs, weight) in zip(counts, streams, strict=True):
        rank = np.arange(len(stream_keys)) - (np.cumsum(count) - count)[docs]
        target = offset[docs] + rank
        keys[target] = stream_keys
        values[target] = weight / norm[docs]
        offset = offset + count
    return keys, values, lengths.astype(np.int32)


def featurise(
    texts: Sequence[str],
    *,
    char_ngram_min: int,
    char_ngram_max: int,
    word_ngram_max: int,
    max_chars: int,
    word_weight: float,
    cue_weight: float,
) -> Features:
    """Turn a batch of (normalised) texts into (keys, values, lengths) for thinc's SparseLinear.

    The features come from the text alone, so training (which hands over `doc.text`) and
    classification (which needs no Doc) see exactly the same ones.
    """
    cut = [text[:max_chars] for text in texts]
    lower = [text.lower() for text in cut]
    char_keys, char_docs = _char_ngrams(
        [text.translate(_CHAR_TABLE) for text in lower], char_ngram_min, char_ngram_max
    )
    words, doc_of_word, upper = _words(cut)
    streams = [
        (char_keys, char_docs, 1.0),
        (*_word_ngrams(words, doc_of_word, word_ngram_max), word_weight),
    ]
    if cue_weight > 0:
        streams.append((*_cue_features(lower, upper), cue_weight))
    return _merge(streams, len(texts))


def _settings(model: Model[list[Doc], Floats2d]) -> dict[str, Any]:
    return {name: model.attrs[name] for name in _FEATURE_SETTINGS}


def shared_settings(models: Sequence[Model[list[Doc], Floats2d]]) -> dict[str, Any]:
    """The feature settings that models of this architecture share, so that a batch can be
    featurised once for all of them (the featurisation is half the cost of a prediction).

    Raises ValueError when a model is of another architecture or the settings differ.
    """
    if not models or any(model.name != _MODEL_NAME for model in models):
        raise ValueError(f"all models must be {ARCHITECTURE}")
    settings = [_settings(model) for model in models]
    if any(other != settings[0] for other in settings):
        raise ValueError("the models do not share their feature settings")
    return settings[0]


def predict_features(model: Model[list[Doc], Floats2d], features: Features) -> Floats2d:
    """Class probabilities of `model` for already featurised docs."""
    logits: Floats2d = model.layers[0].predict(features)
    return model.ops.softmax(logits)


def select_docs(features: Features, rows: np.ndarray) -> Features:
    """The features of the docs at `rows` (ascending indices) of a featurised batch."""
    keys, values, lengths = features
    chosen = np.zeros(len(lengths), dtype=bool)
    chosen[rows] = True
    mask = np.repeat(chosen, lengths)
    return keys[mask], values[mask], lengths[rows]


@registry.architectures(ARCHITECTURE)  # type: ignore[untyped-decorator]
def build_char_ngram_bow(
    nO: int | None = None,
    length: int = 2**17,
    char_ngram_min: int = 2,
    char_ngram_max: int = 5,
    word_ngram_max: int = 2,
    max_chars: int = MAX_TEXT_CHARS,
    word_weight: float = 3.0,
    cue_weight: float = 6.0,
) -> Model[list[Doc], Floats2d]:
    """A softmax classifier over hashed character n-grams, word n-grams and domain cues.

    `length` is the number of hash buckets per class (the weights take 4 * length * nO
    bytes). The weights scale each feature group against the character n-grams (1.0);
    a cue weight of 0 leaves the cues out.
    """
    if not 2 <= char_ngram_min <= char_ngram_max:
        raise ValueError(f"bad char n-gram range {char_ngram_min}..{char_ngram_max}")
    if word_ngram_max not in (1, 2):
        raise ValueError(f"word_ngram_max must be 1 or 2, not {word_ngram_max}")
    linear: Model[Features, Floats2d] = SparseLinear_v2(nO=nO, length=length)
    return Model(
        _MODEL_NAME,
        _forward,
        init=_init,
        layers=[linear],
        dims={"nO": nO},
        attrs={
            "char_ngram_min": char_ngram_min,
            "char_ngram_max": char_ngram_max,
            "word_ngram_max": word_ngram_max,
            "max_chars": max_chars,
            "word_weight": word_weight,
            "cue_weight": cue_weight,
            "multi_label": False,
        },
    )


def _forward(
    model: Model[list[Doc], Floats2d], docs: list[Doc], is_train: bool
) -> tuple[Floats2d, Callable[[Floats2d], list[Doc]]]:
    features = featurise([doc.text for doc in docs], **_settings(model))
    linear = model.layers[0]
    logits, backprop_linear = linear(features, is_train)
    probabilities = model.ops.softmax(logits)

    def backprop(d_scores: Floats2d) -> list[Doc]:
        # spaCy's textcat loss hands back `scores - truths`: for a softmax output that is the
        # gradient of the cross-entropy with respect to the logits, so it goes straight to
        # the linear layer (thinc's Softmax layer does the same). Routing it through the
        # softmax Jacobian would train a squared error, which learns slowly when wrong.
        backprop_linear(model.ops.as_contig(d_scores))
        return []

    return probabilities, backprop


def _init(
    model: Model[list[Doc], Floats2d],
    X: list[Doc] | None = None,
    Y: Floats2d | None = None,
) -> None:
    linear = model.layers[0]
    if Y is not None:
        model.set_dim("nO", get_width(Y), force=True)
    if model.has_dim("nO"):
        linear.set_dim("nO", model.get_dim("nO"), force=True)
    linear.initialize()
    model.set_dim("nO", linear.get_dim("nO"), force=True)
