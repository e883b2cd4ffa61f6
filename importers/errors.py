"""The one error an importer raises for a file it cannot read: a catalogue key and its values."""

from __future__ import annotations


class UnreadableFile(Exception):
    """The file is not what the importer expects; `key` names the Dutch/English explanation."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values
