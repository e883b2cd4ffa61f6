"""Reading a schouw plan from natural Dutch: `/schouw donderdag 19:30 bij de kerk met wijkagent`."""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, replace
from datetime import date, datetime, time

# Words for the partners a coordinator walks with, and the role each stands for.
PARTNER_WORDS = {
    "wijkagent": "politie",
    "politie": "politie",
    "agent": "politie",
    "police": "politie",
    "gemeente": "gemeente",
    "wijkmanager": "gemeente",
    "gebiedsbeheerder": "gemeente",
    "wijkbeheerder": "gemeente",
    "municipality": "gemeente",
    "boa": "handhaving",
    "boas": "handhaving",
    "handhaving": "handhaving",
    "handhavers": "handhaving",
}
_PARTNERS = re.compile(r"\b(?:met|samen met|with)\s+(?P<who>.+)$", re.IGNORECASE)
_LOCATION = re.compile(
    r"\b(?:verzamelen bij|verzamelpunt|start bij|vanaf|bij|at|locatie:?|"
    r"(?:op|aan|in)(?= (?:de|het) \D))\s+(?P<where>.+)$",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(?:om\s+|at\s+)?(?P<hour>[01]?\d|2[0-3])(?:[:.](?P<minute>[0-5]\d)|\s*(?:u|uur)\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SchouwPlan:
    """What a coordinator said about a schouw; None where they did not say it yet."""

    day: date | None = None
    at: time | None = None
    location: str | None = None
    partners: tuple[str, ...] = ()
    unreadable_day: str | None = None  # words that looked like a day but could not be read

    def to_json(self) -> str:
        return json.dumps(
            {
                "day": self.day.isoformat() if self.day else None,
                "at": self.at.strftime("%H:%M") if self.at else None,
                "location": self.location,
                "partners": list(self.partners),
            }
        )

    @classmethod
    def from_json(cls, saved: str | None) -> SchouwPlan:
        if not saved:
            return cls()
        values = json.loads(saved)
        return cls(
            day=date.fromisoformat(values["day"]) if values.get("day") else None,
            at=time.fromisoformat(values["at"]) if values.get("at") else None,
            location=values.get("location"),
            partners=tuple(values.get("partners") or ()),
        )

    def merged_into(self, earlier: SchouwPlan) -> SchouwPlan:
        """This plan completing an earlier one: what is said now wins, the rest stays."""
        return replace(
            earlier,
            day=self.day or earlier.day,
            at=self.at or earlier.at,
            location=self.location or earlier.location,
            partners=tuple(sorted(set(earlier.partners) | set(self.partners))),
            unreadable_day=self.unreadable_day,
        )


def _partners(words: str) -> tuple[str, ...]:
    found = {
        role
        for word in re.findall(r"[\w']+", words.lower())
        if (role := PARTNER_WORDS.get(word.rstrip("s") if word not in PARTNER_WORDS else word))
    }
    return tuple(sorted(found))


def _day(words: str, now: datetime) -> date | None:
    import dateparser

    with warnings.catch_warnings():
        # dateparser trips over its own use of deprecated datetime helpers on newer Pythons.
        warnings.simplefilter("ignore", DeprecationWarning)
        found = dateparser.parse(
            words,
            languages=["nl", "en"],
            settings={
                "PREFER_DATES_FROM": "future",
                "RELATIVE_BASE": now.replace(tzinfo=None),
                "DATE_ORDER": "DMY",
                "RETURN_AS_TIMEZONE_AWARE": False,
            },
        )
    return found.date() if found else None


def parse_schouw(text: str, now: datetime) -> SchouwPlan:
    """Pick day, time, place and partners out of what the coordinator typed (local `now`)."""
    rest = " ".join(text.split())
    partners: tuple[str, ...] = ()
    if match := _PARTNERS.search(rest):
        partners = _partners(match["who"])
        rest = rest[: match.start()].strip()
    location = None
    if match := _LOCATION.search(rest):
        location = match["where"].strip(" ,.")[:200] or None
        rest = rest[: match.start()].strip()
    at = None
    if match := _TIME.search(rest):
        at = time(int(match["hour"]), int(match["minute"] or 0))
        rest = (rest[: match.start()] + " " + rest[match.end() :]).strip()
    rest = rest.strip(" ,.")
    day = _day(rest, now) if rest else None
    return SchouwPlan(
        day=day,
        at=at,
        location=location,
        partners=partners,
        unreadable_day=rest if rest and day is None else None,
    )


def parse_when(text: str, now: datetime) -> datetime | None:
    """A day and a time ('12 december 19:30', 'vrijdag 20:00') in `now`'s zone; None when
    either is missing or unreadable."""
    rest = " ".join(text.split())
    match = _TIME.search(rest)
    if match is None:
        return None
    at = time(int(match["hour"]), int(match["minute"] or 0))
    rest = (rest[: match.start()] + " " + rest[match.end() :]).strip(" ,.")
    day = _day(rest, now) if rest else None
    return datetime.combine(day, at, tzinfo=now.tzinfo) if day else None
