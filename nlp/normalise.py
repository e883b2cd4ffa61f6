"""Safe normalisation of message text before it is featurised, in training and at run time.

Any `str` goes in, a short, clean, printable string comes out: NFKC, control and format
characters removed, whitespace collapsed, length capped. It never raises on a `str`.
"""

from __future__ import annotations

import unicodedata

# Chat messages are short; the longest posts (rules for new members, forwarded police
# warnings) stay well under this. Beyond it, more text adds cost, not signal.
MAX_TEXT_CHARS = 1000

# NFKC can expand one character into up to 18, so the raw text is cut before normalising
# (bounded cost on a megabyte of input) and the result is cut again afterwards.
_RAW_CUT = 4 * MAX_TEXT_CHARS

# Control characters (Cc) become spaces, so that "a\tb" stays two words; format characters
# (Cf: zero-width joiners, soft hyphens, direction marks) and lone surrogates (Cs) vanish.
_REPLACE_WITH_SPACE = frozenset({"Cc"})
_DROP = frozenset({"Cf", "Cs"})


def _clean_char(char: str) -> str:
    category = unicodedata.category(char)
    if category in _REPLACE_WITH_SPACE:
        return " "
    if category in _DROP:
        return ""
    return char


def normalise_text(text: str) -> str:
    """Return `text` in NFKC, without control characters, whitespace collapsed, capped."""
    cleaned = unicodedata.normalize("NFKC", text[:_RAW_CUT])
    # Fast path: printable text (the vast majority) has nothing to strip.
    if not cleaned.isprintable():
        cleaned = "".join(_clean_char(char) for char in cleaned)
    return " ".join(cleaned.split())[:MAX_TEXT_CHARS].rstrip()
