"""Time the weekly digest for many initiatives, and `/trend` for one, on SQLite and PostgreSQL.

Builds a database with `--initiatives` initiatives (default 2,000) and `--messages` messages
(default 2 million) spread over two years, with their incidents, then times the digest run
(text + chart for every initiative) and `/trend` for one initiative.
Usage: `python bench/digest.py [--initiatives N] [--messages N] [--only sqlite|postgresql]`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.digest import queue_weekly_digests  # noqa: E402
from handlers.trend import trend_answer  # noqa: E402
from nlp.labels import CATEGORIES  # noqa: E402
from storage.db import Database, scratch_schema  # noqa: E402
from storage.models import (  # noqa: E402
    Chat,
    Incident,
    Initiative,
    Member,
    Message,
    PrivateChat,
)

ZONE = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 23, 8, 5, tzinfo=ZONE)  # a Monday, just after the digest time
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


KINDS = ["signaal"] * 5 + ["terugkoppeling", "overig", "overig", "activiteit", "afspraak"]
CHUNK = 20_000


def fill(db: Database, initiatives: int, messages: int) -> None:
    """Initiatives with one group, one coordinator each, and their messages and incidents."""
    rng = random.Random(7)
    span = timedelta(days=730).total_seconds()
    start = NOW.astimezone(UTC) - timedelta(days=730)
    with db.engine.begin() as connection:
        connection.execute(insert(Initiative), [
            {"id": i, "name": f"Initiatief {i}", "language": "nl", "created_at": start,
             "digest_weekday": 0, "digest_hour": 8, "digest_minute": 0}
            for i in range(1, initiatives + 1)
        ])
        connection.execute(insert(Chat), [
            {"id": i, "initiative_id": i, "channel": "telegram", "external_id": str(-i),
             "title": f"Initiatief {i}", "is_group": True, "created_at": start}
            for i in range(1, initiatives + 1)
        ])
        connection.execute(insert(Member), [
            {"id": i, "initiative_id": i, "channel": "telegram", "external_id": str(i),
             "display_name": "Coördinator", "role": "coordinator", "joined_at": start}
            for i in range(1, initiatives + 1)
        ])
        connection.execute(insert(PrivateChat), [
            {"channel": "telegram", "external_id": str(i), "first_seen_at": start}
            for i in range(1, initiatives + 1)
        ])
    per_initiative = messages // initiatives
    incident_id = 0
    message_id = 0
    started = time.perf_counter()
    for first in range(1, initiatives + 1, max(1, CHUNK // per_initiative)):
        batch_messages: list[dict[str, object]] = []
        batch_incidents: list[dict[str, object]] = []
        last = min(initiatives, first + max(1, CHUNK // per_initiative) - 1)
        for initiative in range(first, last + 1):
            for _ in range(per_initiative):
                message_id += 1
                sent_at = start + timedelta(seconds=rng.random() * span)
                kind = rng.choice(KINDS)
                category = rng.choice(CATEGORIES) if kind in ("signaal", "terugkoppeling") else None
                incident = None
                if kind == "signaal" and rng.random() < 0.6:
                    incident_id += 1
                    incident = incident_id
                    batch_incidents.append({
                        "id": incident_id, "initiative_id": initiative, "chat_id": initiative,
                        "category": category, "opened_at": sent_at, "last_message_at": sent_at,
                        "urgent": rng.random() < 0.1, "followed_up": rng.random() < 0.4,
                        "message_count": 1,
                    })
                batch_messages.append({
                    "id": message_id, "initiative_id": initiative, "chat_id": initiative,
                    "member_id": initiative, "channel_message_id": str(message_id),
                    "sent_at": sent_at, "received_at": sent_at, "text": "",
                    "kind": kind, "category": category, "urgent": False, "confidence": 0.9,
                    "needs_review": False, "model_version": "bench", "source": "live",
                    "incident_id": incident,
                })
        with db.engine.begin() as connection:
            if batch_incidents:
                connection.execute(insert(Incident), batch_incidents)
            connection.execute(insert(Message), batch_messages)
        done = message_id / (per_initiative * initiatives)
        print(f"\r  filling: {done:5.1%} ({time.perf_counter() - started:.0f} s)", end="", flush=True)
    print()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            for table in ("messages", "incidents", "initiatives", "members", "outbox"):
                connection.execute(text(f"ANALYZE {table}"))


def measure(name: str, url: str, initiatives: int, messages: int) -> dict[str, float | str]:
    db = Database(url)
    db.upgrade()
    print(f"{name}: building {initiatives} initiatives, {messages} messages")
    fill(db, initiatives, messages)
    trend_times = []
    for _ in range(20):
        with db.unit_of_work() as session:
            initiative = session.get(Initiative, 1)
            assert initiative is not None
            started = time.perf_counter()
            trend_answer(session, initiative, "", NOW, ZONE)
            trend_times.append(time.perf_counter() - started)
    started = time.perf_counter()
    with db.unit_of_work() as session:
        queued = queue_weekly_digests(session, NOW, ZONE)
    digest_seconds = time.perf_counter() - started
    db.dispose()
    return {
        "case": name,
        "digest_s": digest_seconds,
        "queued": float(queued),
        "trend_p50_ms": statistics.median(trend_times) * 1000,
        "trend_max_ms": max(trend_times) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--initiatives", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        if args.only in (None, "sqlite"):
            results.append(measure("sqlite", f"sqlite:///{workdir}/digest.db",
                                   args.initiatives, args.messages))
        if args.only in (None, "postgresql"):
            with scratch_schema(POSTGRES_URL, "bench") as url:
                results.append(measure("postgresql", url, args.initiatives, args.messages))
    print(f"\n{args.initiatives} initiatives, {args.messages} messages over two years")
    print(f"{'database':<12}{'digest run':>14}{'digests':>10}{'/trend p50':>14}{'/trend max':>14}")
    for row in results:
        print(f"{row['case']:<12}{float(row['digest_s']):>12.1f} s{int(float(row['queued'])):>10}"
              f"{float(row['trend_p50_ms']):>11.0f} ms{float(row['trend_max_ms']):>11.0f} ms")
    print("targets: digest run < 5 min on PostgreSQL; /trend < 300 ms")


if __name__ == "__main__":
    main()
