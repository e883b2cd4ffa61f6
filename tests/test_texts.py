"""The text catalogues: Dutch and English say the same things."""

from __future__ import annotations

import re
import string

from handlers.texts import catalogue, text


def test_dutch_and_english_have_the_same_keys_and_placeholders() -> None:
    dutch, english = catalogue("nl"), catalogue("en")
    assert dutch.keys() == english.keys()
    for key in dutch:
        fields = {name for _, name, _, _ in string.Formatter().parse(dutch[key]) if name}
        assert fields == {n for _, n, _, _ in string.Formatter().parse(english[key]) if n}, key


def test_saar_reminder_names_112_and_every_step() -> None:
    reminder = text("saar_reminder")
    assert "112" in reminder
    assert all(re.search(word, reminder) for word in ("Signaleer", "Alarmeer", "App", "Reageer"))


def test_unknown_language_falls_back_to_dutch() -> None:
    assert text("help", "fy") == text("help", "nl")
