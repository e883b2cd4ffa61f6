"""Measure the classifier on one core: load time, batch throughput, single-message latency, RSS.

Input is the dev and train texts, repeated up to --messages. Pinned to one CPU where the OS
allows it. Usage: `python bench/classify.py [--messages N] [--single N] [--model DIR]`.
"""

from __future__ import annotations

import os

# One core means one thread everywhere, set before numpy loads its BLAS.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.classifier import Classifier  # noqa: E402
from nlp.paths import DEV_DIR, TRAIN_DIR  # noqa: E402

TARGET_THROUGHPUT = 10_000.0
TARGET_P99_MS = 1.0
TARGET_RSS_MB = 250.0
TARGET_LOAD_S = 1.5


def corpus_texts() -> list[str]:
    texts = []
    for directory in (DEV_DIR, TRAIN_DIR):
        for path in sorted(directory.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    texts.append(json.loads(line)["text"])
    return texts or ["Verdachte man bij de garages"]


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"CPU {core}"
    return "not pinned (no sched_setaffinity)"


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000, help="messages for throughput")
    parser.add_argument("--single", type=int, default=5_000, help="messages for latency")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    pinned = pin_to_one_core()

    started = time.perf_counter()
    classifier = Classifier.load(args.model)  # includes importing spaCy
    load_s = time.perf_counter() - started

    base = corpus_texts()
    texts = (base * (args.messages // len(base) + 1))[: args.messages]
    classifier.classify_batch(texts[:1000])  # warm-up
    started = time.perf_counter()
    for start in range(0, len(texts), args.batch_size):
        classifier.classify_batch(texts[start : start + args.batch_size])
    throughput = len(texts) / (time.perf_counter() - started)

    latencies = []
    for text in texts[: args.single]:
        begin = time.perf_counter()
        classifier.classify(text)
        latencies.append((time.perf_counter() - begin) * 1000)
    cuts = statistics.quantiles(latencies, n=100)
    p50, p99 = cuts[49], cuts[98]
    rss = peak_rss_mb()

    def verdict(ok: bool) -> str:
        return "[green]ok[/green]" if ok else "[red]MISSED[/red]"

    table = Table(title=f"Classifier {classifier.version}, {pinned}", title_justify="left")
    for heading in ("measure", "value", "target", ""):
        table.add_column(heading)
    table.add_row(
        f"throughput (batches of {args.batch_size}, {len(texts)} msgs)",
        f"{throughput:,.0f} msg/s",
        f">= {TARGET_THROUGHPUT:,.0f} msg/s",
        verdict(throughput >= TARGET_THROUGHPUT),
    )
    table.add_row("latency p50 (single message)", f"{p50:.3f} ms", "", "")
    table.add_row(
        f"latency p99 (single message, {len(latencies)} msgs)",
        f"{p99:.3f} ms",
        f"< {TARGET_P99_MS} ms",
        verdict(p99 < TARGET_P99_MS),
    )
    table.add_row(
        "peak RSS", f"{rss:.0f} MB", f"< {TARGET_RSS_MB:.0f} MB", verdict(rss < TARGET_RSS_MB)
    )
    table.add_row(
        "model load (incl. spaCy import)",
        f"{load_s:.2f} s",
        f"< {TARGET_LOAD_S} s",
        verdict(load_s < TARGET_LOAD_S),
    )
    Console().print(table)


if __name__ == "__main__":
    main()
