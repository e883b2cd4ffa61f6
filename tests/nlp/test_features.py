"""The word features come from the text alone, the same in training and classification."""

from __future__ import annotations

from spacy.strings import get_string_id

from nlp.architecture import _EMERGENCY_NUMBER, _NUMBER_KEY, _words, featurise

SETTINGS = {
    "char_ngram_min": 2,
    "char_ngram_max": 5,
    "word_ngram_max": 2,
    "max_chars": 1000,
    "word_weight": 3.0,
    "cue_weight": 6.0,
}


def test_words_fold_numbers_keep_112_and_count_capitals() -> None:
    keys, docs, upper = _words(["BEL 112 nu!", "nr 12 om 03:15 en nr 40", ""])
    first = keys[docs == 0].tolist()
    assert first == [
        get_string_id("bel"),
        _EMERGENCY_NUMBER,
        get_string_id("nu"),
        get_string_id("!"),
    ]
    second = keys[docs == 1].tolist()
    # 12, 03 and 15 (the time splits at its colon) and 40
    assert second.count(_NUMBER_KEY) == 4
    assert second[0] == second[7] == get_string_id("nr")
    assert second[4] == get_string_id(":")
    assert upper.tolist() == [1, 0, 0]


def test_features_of_a_text_do_not_depend_on_its_batch() -> None:
    alone = featurise(["Iemand probeert NU de achterdeur van nr 8"], **SETTINGS)
    batch = featurise(["hoi", "Iemand probeert NU de achterdeur van nr 8", "👍"], **SETTINGS)
    keys, values, lengths = batch
    start = int(lengths[0])
    end = start + int(lengths[1])
    assert lengths[1] == alone[2][0] > 0
    assert sorted(keys[start:end].tolist()) == sorted(alone[0].tolist())
    assert sorted(values[start:end].tolist()) == sorted(alone[1].tolist())
