"""Drive `POST /telegram` over loopback with concurrent clients; print updates/s and latency.

Runs `buurtbot serve` in its own process on SQLite and on PostgreSQL (when reachable), with the
Bot API stand-in answering the replies: once as one process that also processes the updates
(`buurtbot serve`), once as the Procfile runs it (`serve --no-worker` plus `buurtbot worker`).
The same load goes to a bare Starlette endpoint that only answers 200: the ceiling for this stack;
it runs before and after every case, and each case's ratio is against the mean of those two runs.
After the load, the bench waits until the bot has processed every stored update and reports the
backlog the load left and how long it took to drain. Usage:
`python bench/webhook.py [--updates N] [--repeat R] [--databases sqlite,postgresql]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import scratch_schema  # noqa: E402
from tests.standins.server import LoopbackServer, free_port  # noqa: E402
from tests.standins.telegram_api import TelegramStandIn  # noqa: E402
from tests.telegram_updates import group_message, user  # noqa: E402

SECRET = "bench-secret"
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def telegram(request):
    await request.body()
    return JSONResponse({"ok": True})

app = Starlette(routes=[Route("/telegram", telegram, methods=["POST"])])
"""


def texts() -> list[str]:
    lines = []
    for path in sorted((ROOT / "nlp" / "data" / "dev").glob("*.jsonl")):
        lines += [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    return lines or ["Verdachte man bij de garages"]


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


async def _post(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, body: bytes
) -> int:
    """One keep-alive HTTP/1.1 POST; a bare client so the load generator is not the bottleneck."""
    writer.write(
        b"POST /telegram HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
        b"Content-Type: application/json\r\nX-Telegram-Bot-Api-Secret-Token: "
        + SECRET.encode()
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def drive(
    url: str, updates: list[dict[str, object]], concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    bodies = [json.dumps(update).encode() for update in updates]
    host, port = url.removeprefix("http://").split(":")
    position = 0

    async def worker() -> None:
        nonlocal position
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while position < len(bodies):
                body = bodies[position]
                position += 1
                started = time.perf_counter()
                status = await _post(reader, writer, host, body)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"status {status}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(bodies) / (time.perf_counter() - started), latencies


def pending(database_url: str) -> int:
    """Stored updates the bot has not processed yet."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT count(*) FROM inbound_updates WHERE status = 'pending'")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def drain(database_url: str, timeout: float = 300) -> tuple[int, float]:
    """The backlog when the load ends, and the seconds until the bot has processed all of it."""
    started = time.perf_counter()
    backlog = left = pending(database_url)
    while left and time.perf_counter() - started < timeout:
        time.sleep(0.05)
        left = pending(database_url)
    if left:
        raise RuntimeError(f"{left} updates still pending after {timeout:.0f} s")
    return backlog, time.perf_counter() - started if backlog else 0.0


def run_case(
    name: str,
    command: list[str],
    env: dict[str, str],
    port: int,
    count: int,
    concurrency: int,
    health: str,
    helper: list[str] | None = None,
) -> dict[str, float | str]:
    corpus = texts()
    updates = [
        group_message(corpus[i % len(corpus)], sender=user(1000 + i % 50, f"Lid{i % 50}"))
        for i in range(count)
    ]
    process = subprocess.Popen(
        command,
        env=env,
        cwd=env.get("BENCH_CWD"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    worker = (
        subprocess.Popen(
            helper,
            env=env,
            cwd=env.get("BENCH_CWD"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if helper
        else None
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url + health, process)
        # Warm up connections and the classifier (and let the bot process the warm-up), then
        # measure.
        asyncio.run(drive(url, [group_message("hallo", update_id=10**9 + i) for i in range(50)], 4))
        if env.get("DATABASE_URL"):
            drain(env["DATABASE_URL"])
        rate, latencies = asyncio.run(drive(url, updates, concurrency))
        if worker is not None and worker.poll() is not None:
            raise RuntimeError("the worker process exited")
        database_url = env.get("DATABASE_URL")
        backlog, drain_s = drain(database_url) if database_url else (0, 0.0)
    finally:
        for running in (process, worker):
            if running is not None:
                running.terminate()
                running.wait(timeout=30)
    ordered = sorted(latencies)
    return {
        "case": name,
        "rate": rate,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
        "backlog": backlog,
        "drain_s": drain_s,
        # Everything received, classified and stored: from the first request to an empty inbox.
        "processed_rate": count / (count / rate + drain_s),
    }


def postgres_url(schemas: ExitStack) -> str | None:
    """A fresh PostgreSQL schema, dropped when `schemas` closes; None when there is no server."""
    try:
        return schemas.enter_context(scratch_schema(POSTGRES_URL, "bench"))
    except Exception as error:
        print(f"PostgreSQL skipped: {type(error).__name__}")
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--repeat", type=int, default=1, help="run everything this many times and report medians"
    )
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="which of sqlite, postgresql to run (comma-separated)",
    )
    args = parser.parse_args()

    wanted = args.databases.split(",")
    standin = TelegramStandIn()
    bare_runs: list[dict[str, float | str]] = []
    runs: dict[str, list[dict[str, float | str]]] = {}
    with (
        tempfile.TemporaryDirectory() as workdir,
        LoopbackServer(standin.app()) as api,
        ExitStack() as schemas,
    ):
        (Path(workdir) / "bare_app.py").write_text(BARE_APP)

        def bare() -> float:
            port = free_port()
            row = run_case(
                "bare Starlette",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bare_app:app",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                {**os.environ, "BENCH_CWD": workdir, "PYTHONPATH": workdir},
                port,
                args.updates,
                args.concurrency,
                "/none",
            )
            bare_runs.append(row)
            return float(row["rate"])

        def database(name: str, number: int) -> str | None:
            """A fresh, migrated database for every run, so that no run inherits another's rows
            (and the web process and the worker do not both create the tables at start-up)."""
            url = f"sqlite:///{workdir}/bench-{number}.db" if name == "sqlite" else postgres_url(schemas)
            if url:
                subprocess.run(
                    [sys.executable, "-m", "bot", "db", "upgrade"],
                    check=True,
                    env={**os.environ, "DATABASE_URL": url},
                    capture_output=True,
                )
            return url

        cases = [
            (name, worker)
            for name in ("sqlite", "postgresql")
            if name in wanted
            for worker in (False, True)
        ]
        number = 0
        for _ in range(args.repeat):
            # The bare endpoint runs before and after every case: each ratio is against the
            # mean of its two neighbours, so that drift in the machine's load cancels out.
            before = bare()
            for name, separate_worker in cases:
                number += 1
                url = database(name, number)
                if url is None:
                    continue
                port = free_port()
                env = {
                    **os.environ,
                    "DATABASE_URL": url,
                    "TELEGRAM_BOT_TOKEN": standin.token,
                    "TELEGRAM_WEBHOOK_SECRET": SECRET,
                    "TELEGRAM_API_URL": api.url,
                    "LOG_LEVEL": "WARNING",
                    "BENCH_CWD": workdir,
                }
                serve = [
                    sys.executable,
                    "-m",
                    "bot",
                    "serve",
                    "--port",
                    str(port),
                    "--no-scheduler",
                ]
                label = f"{name}, one process"
                helper = None
                if separate_worker:
                    serve.append("--no-worker")
                    label = f"{name}, web + worker"
                    helper = [sys.executable, "-m", "bot", "worker"]
                row = run_case(
                    label,
                    serve,
                    env,
                    port,
                    args.updates,
                    args.concurrency,
                    "/healthz",
                    helper=helper,
                )
                after = bare()
                row["vs_bare"] = float(row["rate"]) / ((before + after) / 2)
                runs.setdefault(label, []).append(row)
                before = after

    def median(rows: list[dict[str, float | str]], key: str) -> float:
        return statistics.median(float(row[key]) for row in rows)

    print(
        f"{args.updates} updates, {args.concurrency} concurrent clients, loopback, "
        f"{os.cpu_count()} cores; medians of {args.repeat} run(s), bare runs between cases"
    )
    print(
        f"{'case':<28}{'updates/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'vs bare':>10}"
        f"{'backlog':>10}{'drain s':>10}{'processed/s':>13}"
    )
    table = [("bare Starlette", bare_runs, 1.0)] + [
        (label, rows, median(rows, "vs_bare")) for label, rows in runs.items()
    ]
    for label, rows, ratio in table:
        print(
            f"{label:<28}{median(rows, 'rate'):>12.0f}{median(rows, 'p50_ms'):>10.1f}"
            f"{median(rows, 'p99_ms'):>10.1f}{ratio:>10.2f}"
            f"{median(rows, 'backlog'):>10.0f}{median(rows, 'drain_s'):>10.2f}"
            f"{median(rows, 'processed_rate'):>13.0f}"
        )
    if args.repeat > 1:
        for label, rows in runs.items():
            print(
                f"  {label}: vs bare per run "
                + ", ".join(f"{float(row['vs_bare']):.2f}" for row in rows)
            )
    print(
        "backlog: updates stored but not yet processed when the load ended; drain: seconds until"
        " the bot had classified and stored all of them; processed/s: updates over load + drain"
    )
    print("targets: >= 300 updates/s, p99 < 100 ms on SQLite; >= 0.33 of the bare rate")


if __name__ == "__main__":
    main()
