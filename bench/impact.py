"""Time the impact score of every initiative at once, and of one, on PostgreSQL and SQLite.

Builds the database of `bench/digest.py` (`--initiatives` initiatives, default 2,000, with
`--messages` messages, default 2 million, over two years, and their incidents) plus, per
initiative, a few schouws, joins and ideas, then times `score_initiatives` for all of them
(the bulk API) and `score_initiative` for one.
Usage: `python bench/impact.py [--initiatives N] [--messages N] [--only sqlite|postgresql]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, timedelta
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from digest import NOW, POSTGRES_URL, fill

from analytics.impact import score_initiative, score_initiatives
from storage.db import Database, scratch_schema
from storage.models import Event, Idea, MembershipEvent

RUNS = 3


def fill_activities(db: Database, initiatives: int) -> None:
    """Per initiative: schouws (some held with a partner), member joins and ideas."""
    rng = random.Random(11)
    start = NOW.astimezone(UTC) - timedelta(days=730)
    events, joins, ideas = [], [], []
    for initiative in range(1, initiatives + 1):
        for _ in range(rng.randint(0, 4)):
            moment = start + timedelta(days=rng.random() * 730)
            events.append({
                "initiative_id": initiative, "chat_id": initiative, "organiser_id": initiative,
                "kind": "schouw", "status": rng.choice(["held", "reported", "cancelled"]),
                "starts_at": moment, "location": "de kerk",
                "partners_invited": rng.choice(["", "politie", "gemeente,politie"]),
                "findings": 0, "created_at": moment - timedelta(days=7),
            })
        for number in range(rng.randint(0, 12)):
            joins.append({
                "initiative_id": initiative, "member_id": initiative, "kind": "joined",
                "at": start + timedelta(days=rng.random() * 730), "source": "live",
                "event_key": f"{initiative}-{number}", "created_at": start,
            })
        for number in range(1, rng.randint(0, 5) + 1):
            created = start + timedelta(days=rng.random() * 730)
            ideas.append({
                "initiative_id": initiative, "number": number, "proposer_id": initiative,
                "text": "", "created_at": created,
                "adopted_at": created + timedelta(days=3) if rng.random() < 0.3 else None,
                "adopted_by_id": initiative,
            })
    with db.engine.begin() as connection:
        connection.execute(insert(Event), events)
        connection.execute(insert(MembershipEvent), joins)
        connection.execute(insert(Idea), ideas)
        if db.engine.dialect.name == "postgresql":
            for table in ("events", "membership_events", "ideas", "members"):
                connection.execute(text(f"ANALYZE {table}"))


def measure(name: str, url: str, initiatives: int, messages: int) -> dict[str, object]:
    db = Database(url)
    db.upgrade()
    print(f"{name}: building {initiatives} initiatives, {messages} messages")
    fill(db, initiatives, messages)
    fill_activities(db, initiatives)
    bulk_times = []
    for _ in range(RUNS):
        with db.unit_of_work() as session:
            started = time.perf_counter()
            scores = score_initiatives(session, NOW)
            bulk_times.append(time.perf_counter() - started)
    single_times = []
    for initiative_id in range(1, 21):
        with db.unit_of_work() as session:
            started = time.perf_counter()
            score_initiative(session, initiative_id, NOW)
            single_times.append(time.perf_counter() - started)
    db.dispose()
    return {
        "case": name,
        "scored": len(scores),
        "levels": Counter(score.level for score in scores.values()),
        "bulk_s": statistics.median(bulk_times),
        "single_ms": statistics.median(single_times) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--initiatives", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = []
    if args.only in (None, "postgresql"):
        with scratch_schema(POSTGRES_URL, "bench") as url:
            results.append(measure("postgresql", url, args.initiatives, args.messages))
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as workdir:
            results.append(measure("sqlite", f"sqlite:///{workdir}/impact.db",
                                   args.initiatives, args.messages))
    print(f"\n{args.initiatives} initiatives, {args.messages} messages over two years, "
          f"12-month window; median of {RUNS} runs")
    print(f"{'database':<12}{'all initiatives':>17}{'one initiative':>17}  levels 0-5")
    for row in results:
        levels = row["levels"]
        assert isinstance(levels, Counter)
        spread = " ".join(str(levels.get(level, 0)) for level in range(6))
        print(f"{row['case']:<12}{float(row['bulk_s']):>15.2f} s"  # type: ignore[arg-type]
              f"{float(row['single_ms']):>14.0f} ms  {spread}")  # type: ignore[arg-type]
    print("target: all initiatives < 60 s on PostgreSQL")


if __name__ == "__main__":
    main()
