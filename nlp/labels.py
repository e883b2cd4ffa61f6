"""The fixed label names of the message taxonomy (shared/taxonomy.md).

These names are the contract between the classifier, the impact score and the trend digest.
"""

from __future__ import annotations

KINDS: tuple[str, ...] = (
    "signaal",
    "terugkoppeling",
    "afspraak",
    "activiteit",
    "idee",
    "overig",
)

CATEGORIES: tuple[str, ...] = (
    "inbraak",
    "diefstal",
    "verdacht",
    "oplichting",
    "vandalisme",
    "overlast",
    "verkeer",
    "brand",
    "zorg",
    "openbare_ruimte",
)

KINDS_WITH_CATEGORY: frozenset[str] = frozenset({"signaal", "terugkoppeling"})

# Only a signaal can be urgent (taxonomy.md, section 3).
KINDS_THAT_CAN_BE_URGENT: frozenset[str] = frozenset({"signaal"})

# The urgency head is an exclusive two-class textcat; its labels must not clash with the
# kind and category labels, because all heads write into the same `doc.cats`.
URGENT: str = "urgent"
NOT_URGENT: str = "niet_urgent"
URGENCY_LABELS: tuple[str, ...] = (URGENT, NOT_URGENT)
