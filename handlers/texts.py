"""Everything the bot says, rendered from one catalogue per language (`config/locale/*.toml`)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import config

LOCALE_DIR = Path(config.__file__).resolve().parent / "locale"
PROMPTS_DIR = Path(config.__file__).resolve().parent / "prompts"
PROMPT_LEVELS = (1, 2, 3, 4, 5)
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


@cache
def prompt_texts(language: str) -> dict[int, tuple[str, ...]]:
    """The level-appropriate tips per level (`config/prompts/*.toml`); two or more per level."""
    path = PROMPTS_DIR / f"{language}.toml"
    if not path.exists():
        path = PROMPTS_DIR / f"{DEFAULT_LANGUAGE}.toml"
    with path.open("rb") as file:
        raw = tomllib.load(file)
    texts = {
        level: tuple(str(tip) for tip in raw.get(f"level{level}", [])) for level in PROMPT_LEVELS
    }
    for level, tips in texts.items():
        if len(tips) < 2:
            raise ValueError(f"{path.name}: level{level} needs at least two tips")
    return texts
