"""Everything the bot says, rendered from one catalogue per language (`config/locale/*.toml`)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import config

LOCALE_DIR = Path(config.__file__).resolve().parent / "locale"
DEFAULT_LANGUAGE = "nl"


@cache
def catalogue(language: str) -> dict[str, str]:
    path = LOCALE_DIR / f"{language}.toml"
    if not path.exists():
        path = LOCALE_DIR / f"{DEFAULT_LANGUAGE}.toml"
    with path.open("rb") as file:
        return {key: str(value) for key, value in tomllib.load(file).items()}


def text(key: str, language: str = DEFAULT_LANGUAGE, /, **values: object) -> str:
    """The message `key` in `language`, with `values` filled in."""
    template = catalogue(language).get(key) or catalogue(DEFAULT_LANGUAGE)[key]
    return template.format(**values) if values else template
