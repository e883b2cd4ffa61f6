"""Send one regional invitation to 5,000 Telegram groups and 5,000 WhatsApp numbers; print the
achieved rate per channel against its configured limit, the busiest second, and the total time.

The bot's worker runs as in production (`buurtbot worker`, default limits: Telegram 30/s,
Twilio 80/s) and sends through the real python-telegram-bot and twilio clients to stand-ins of
both APIs, each in a process of its own, which note when every request arrived.
Usage: `python bench/broadcast.py [--chats N] [--database-url URL]`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.settings import Settings  # noqa: E402
from handlers.regional_events import AudienceChoice, new_event, send_invitations  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import AudienceKind, OutboxMessage, OutboxStatus, utcnow  # noqa: E402
from storage.regional_events import progress  # noqa: E402
from storage.whatsapp import join  # noqa: E402
from tests.rates import most_in_any_second  # noqa: E402
from tests.standins.server import free_port  # noqa: E402
from tests.standins.telegram_api import TelegramStandIn  # noqa: E402
from tests.standins.twilio_api import TwilioStandIn  # noqa: E402

SECRET = "bench-secret"


def serve_standin(kind: str, port: int) -> None:
    """One stand-in in this process, with `GET /arrivals` listing when each request came."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    standin: TelegramStandIn | TwilioStandIn = (
        TelegramStandIn() if kind == "telegram" else TwilioStandIn()
    )

    async def arrivals(_request: Request) -> JSONResponse:
        if isinstance(standin, TelegramStandIn):
            times = [call.at for call in standin.sent("sendMessage")]
        else:
            times = [message.at for message in standin.sent()]
        return JSONResponse(times)

    app = Starlette(routes=[Route("/arrivals", arrivals), Mount("/", standin.app())])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/arrivals", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"stand-in at {url} did not start")


def prepare(db: Database, chats: int) -> float:
    """`chats` initiatives with a Telegram group and a WhatsApp member; queue the invitations."""
    from storage.directory import bind_chat

    now = utcnow()
    with db.unit_of_work() as session:
        for number in range(chats):
            chat, _ = bind_chat(
                session, "telegram", str(-1_000_000_000 - number), f"Buurt {number}", True
            )
            join(session, f"whatsapp:+316{number:08d}", chat.initiative, "Lid", now)
    started = time.perf_counter()
    with db.unit_of_work() as session:
        event = new_event(
            "Regioavond",
            now + timedelta(days=21),
            "Stadhuis",
            "Over de Communitymonitor",
            AudienceChoice(AudienceKind.ALL),
            now,
        )
        session.add(event)
        session.flush()
        queued = send_invitations(session, event, ZoneInfo("Europe/Amsterdam"), None)
    assert queued == 2 * chats, queued
    return time.perf_counter() - started


def report(name: str, times: list[float], limit: float) -> None:
    times = sorted(times)
    span = times[-1] - times[0]
    rate = (len(times) - 1) / span if span > 0 else float("nan")
    busiest = most_in_any_second(times)
    print(
        f"{name:9} {len(times):6,} sent in {span:6.1f} s: {rate:6.2f}/s against a limit of "
        f"{limit:g}/s ({rate / limit:.1%}); busiest second {busiest} "
        f"({'within' if busiest <= limit else 'ABOVE'} the limit)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=5000, help="groups, and as many numbers")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="buurtbot-bench-"))
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    db = Database(url)
    db.upgrade()
    ports = {"telegram": free_port(), "twilio": free_port()}
    standins = [
        multiprocessing.Process(target=serve_standin, args=(kind, port), daemon=True)
        for kind, port in ports.items()
    ]
    for process in standins:
        process.start()
    telegram_url = f"http://127.0.0.1:{ports['telegram']}"
    twilio_url = f"http://127.0.0.1:{ports['twilio']}"
    for standin_url in (telegram_url, twilio_url):
        wait_up(standin_url)

    print(
        f"Preparing {args.chats:,} groups and {args.chats:,} WhatsApp numbers on {db.engine.dialect.name} …"
    )
    queue_seconds = prepare(db, args.chats)
    print(f"Queued {2 * args.chats:,} invitations in {queue_seconds:.2f} s.")

    telegram, twilio = TelegramStandIn(), TwilioStandIn()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_URL": telegram_url,
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_WHATSAPP_FROM": twilio.sender,
        "TWILIO_API_URL": twilio_url,
        "LOG_LEVEL": "WARNING",
    }
    limits = Settings(_env_file=None)  # type: ignore[call-arg]
    started = time.perf_counter()
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"], env=env, cwd=workdir, stderr=subprocess.DEVNULL
    )
    try:
        last_print = 0.0
        while True:
            with db.unit_of_work() as session:
                sent = progress(session, 1)
            if time.perf_counter() - last_print >= 15:
                print(f"  … {sent.sent + sent.failed:,} of {sent.total:,} sent")
                last_print = time.perf_counter()
            if sent.done:
                break
            if worker.poll() is not None:
                raise RuntimeError("the worker stopped")
            time.sleep(0.5)
        total = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    with db.unit_of_work() as session:
        failed = (
            session.query(OutboxMessage)
            .filter(OutboxMessage.status == OutboxStatus.FAILED.value)
            .count()
        )
    print(
        f"All {2 * args.chats:,} invitations sent in {total:.1f} s (worker start-up included); failed: {failed}."
    )
    report(
        "Telegram",
        httpx.get(f"{telegram_url}/arrivals").json(),
        limits.telegram_messages_per_second,
    )
    report(
        "WhatsApp", httpx.get(f"{twilio_url}/arrivals").json(), limits.twilio_messages_per_second
    )
    for process in standins:
        process.terminate()
    db.dispose()


if __name__ == "__main__":
    main()
