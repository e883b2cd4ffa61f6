"""The web app: `POST /telegram` (the Bot API webhook) and `GET /healthz`."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.runtime import Runtime

log = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1_000_000
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status)


def create_app(runtime: Runtime) -> Starlette:
    """The ASGI app around a runtime; starting the app starts its workers."""

    async def telegram_webhook(request: Request) -> Response:
        worker = runtime.telegram_inbox
        secret = runtime.settings.telegram_webhook_secret
        if worker is None or secret is None:
            return _error(404, "the Telegram channel is not configured")
        given = request.headers.get(SECRET_HEADER, "")
        # Checked before the body is read or parsed.
        if not secrets.compare_digest(given.encode(), secret.get_secret_value().encode()):
            return _error(403, "missing or wrong secret token")
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return _error(413, "update too large")
        try:
            update = json.loads(body)
            update_id = update["update_id"]
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                raise TypeError("update_id is not an integer")
        except (ValueError, TypeError, KeyError) as error:
            return _error(400, f"not a Telegram update: {type(error).__name__}")
        try:
            await worker.store_durably(str(update_id), body.decode("utf-8"))
        except UnicodeDecodeError:
            return _error(400, "not a Telegram update: not UTF-8")
        worker.wakeup.set()
        return JSONResponse({"ok": True})

    async def healthz(_request: Request) -> Response:
        def ping() -> None:
            with runtime.db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        try:
            await run_in_threadpool(ping)
        except Exception as error:
            return JSONResponse({"status": "error", "database": type(error).__name__}, 503)
        return JSONResponse({"status": "ok", "model": runtime.model_version})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        tasks = await runtime.start()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await runtime.stop()

    return Starlette(
        routes=[
            Route("/telegram", telegram_webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
