"""Import a large WhatsApp export; print messages/s for parsing and for the whole import.

Generates a 200,000-message Android export (Dutch settings) from a realistic mix: reports and
chat from the classifier's dev set, short replies, multi-line messages, media placeholders,
deleted messages, members joining and leaving, phone-number senders. Then times:

- parsing alone, next to parsing the same file with whatstk (`pip install -e '.[bench]'`);
- the whole import (parse + classify + store) on SQLite and on PostgreSQL (when reachable);
- importing the same file again (everything already present).

Usage: `python bench/import.py [--messages N] [--model DIR] [--keep FILE]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.settings import Settings  # noqa: E402
from importers.pipeline import import_whatsapp  # noqa: E402
from importers.whatsapp import MemberMessage, read_export  # noqa: E402
from storage.db import Database, scratch_schema  # noqa: E402

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ZONE = ZoneInfo("Europe/Amsterdam")
FIRST_NAMES = [
    "Anja",
    "Piet",
    "Kees",
    "Els",
    "Joost",
    "Mohamed",
    "Fatima",
    "Sanne",
    "Bram",
    "Ingrid",
    "Henk",
    "Marloes",
    "Youssef",
    "Daan",
    "Lotte",
    "Wim",
    "Ria",
    "Ahmed",
    "Ilse",
    "Gerrit",
    "Noor",
    "Sem",
    "Evi",
    "Thijs",
    "Hanneke",
    "Koen",
    "Petra",
    "Ruud",
    "Samira",
    "Jeroen",
]
SURNAMES = ("de Vries", "Jansen", "Bakker", "Visser", "Smit", "El Amrani", "Meijer", "de Boer")
CHAT = (
    "Goedemorgen allemaal", "👍", "Top, bedankt!", "Dank je wel", "Idd", "Klopt",
    "Ik zag hem ook", "Fijne avond", "Welkom in de groep!", "Ok", "Haha", "🙏", "Gelukkig!",
)  # fmt: skip


def dev_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "nlp" / "data" / "dev").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    return texts


def generate(path: Path, messages: int, seed: int = 7) -> None:
    """An Android export with Dutch phone settings: "dd-mm-jjjj uu:mm - Naam: tekst"."""
    rng = random.Random(seed)
    texts = dev_texts()
    senders = [f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}" for _ in range(45)]
    senders += [f"\u202a+31 6 {rng.randrange(10_000_000, 99_999_999)}\u202c" for _ in range(15)]
    moment = datetime(2022, 1, 3, 8, 0)
    lines = [
        f"{moment:%d-%m-%Y %H:%M} - Berichten en oproepen worden end-to-end versleuteld. "
        "Niemand buiten deze chat, zelfs WhatsApp niet, kan ze lezen of beluisteren. "
        "Tik voor meer informatie."
    ]
    for _ in range(messages):
        moment += timedelta(minutes=rng.choice((0, 0, 1, 2, 5, 12, 30, 90, 240)))
        stamp = f"{moment:%d-%m-%Y %H:%M} - "
        roll = rng.random()
        if roll < 0.004:
            who = rng.choice(senders)
            event = rng.choice(
                (
                    f"\u2068{who}\u2069 is deelnemer geworden via de uitnodigingslink van deze groep",
                    f"\u2068{who}\u2069 heeft de groep verlaten",
                    f"\u2068{senders[0]}\u2069 heeft \u2068{who}\u2069 toegevoegd",
                )
            )
            lines.append(stamp + event)
            continue
        sender = rng.choice(senders)
        if roll < 0.06:
            body = "<Media weggelaten>"
        elif roll < 0.07:
            body = "Dit bericht is verwijderd"
        elif roll < 0.45:
            body = rng.choice(CHAT)
        else:
            body = rng.choice(texts)
            if rng.random() < 0.12:
                body += "\n" + rng.choice(texts)
        lines.append(f"{stamp}{sender}: {body}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def timed(label: str, count: int, work: object, repeat: int = 1) -> float:
    """Run `work` `repeat` times; print and return the best rate (the machine may be shared)."""
    seconds = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        seconds = min(seconds, time.perf_counter() - start)
    rate = count / seconds
    print(f"{label:<44} {seconds:7.2f} s  {rate:>10,.0f} messages/s")
    return rate


def parse_only(path: Path) -> int:
    return sum(isinstance(r, MemberMessage) for r in read_export(path, ZONE).records())


def whatstk_parse(path: Path) -> int:
    from whatstk.whatsapp.parser import df_from_whatsapp

    return len(df_from_whatsapp(str(path), hformat="%d-%m-%Y %H:%M - %name:", max_size=None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--model", type=Path, help="Classifier model (default: the shipped one).")
    parser.add_argument("--keep", type=Path, help="Also write the generated export here.")
    arguments = parser.parse_args()

    from nlp.classifier import Classifier, get_classifier

    classifier = Classifier.load(arguments.model) if arguments.model else get_classifier()
    with tempfile.TemporaryDirectory() as workdir:
        export = Path(workdir) / "WhatsApp Chat met Buurtpreventie Benchwijk.txt"
        generate(export, arguments.messages)
        if arguments.keep:
            arguments.keep.write_bytes(export.read_bytes())
        size = export.stat().st_size / 1e6
        members = parse_only(export)
        print(f"Export: {arguments.messages:,} records, {members:,} member messages, {size:.1f} MB")

        ours = timed("parse (importers.whatsapp)", members, lambda: parse_only(export), 3)
        try:
            theirs = timed("parse (whatstk)", members, lambda: whatstk_parse(export), 3)
            print(f"{'parse speed-up over whatstk':<44} {ours / theirs:7.1f} ×")
        except ImportError:
            print("whatstk is not installed: pip install -e '.[bench]'")

        targets = [("sqlite", f"sqlite:///{workdir}/bench.db")]
        with ExitStack() as schemas:
            try:
                postgres = schemas.enter_context(scratch_schema(POSTGRES_URL, "bench"))
                targets.append(("postgresql", postgres))
            except Exception as error:
                print(f"PostgreSQL not reachable ({type(error).__name__}); SQLite only")
            for name, url in targets:
                settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
                db = Database(settings.database_url)
                db.upgrade()

                def run(db: Database = db, settings: Settings = settings) -> None:
                    import_whatsapp(db, settings, export, "Benchwijk", classifier=classifier)

                timed(f"import: parse + classify + store ({name})", members, run)
                timed(f"import again, all present ({name})", members, run)
                db.dispose()
        sample = [
            r.text for r in read_export(export, ZONE).records() if isinstance(r, MemberMessage)
        ]
        sample = [t for t in sample if t][:50_000]
        timed(
            "classify alone (for reference)", len(sample), lambda: classifier.classify_batch(sample)
        )


if __name__ == "__main__":
    main()
