"""The web app: `POST /telegram` (the Bot API webhook), `POST /whatsapp` and `/whatsapp/status`
(Twilio's webhooks), `GET /media/...` (pictures Twilio fetches) and `GET /healthz`."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.media import media_token
from bot.runtime import Runtime
from bot.whatsapp import inbound_payload, request_url
from storage.models import OutboxMessage, utcnow
from storage.whatsapp import record_status

log = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1_000_000
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TWILIO_SIGNATURE = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


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

    async def whatsapp_params(request: Request) -> ImmutableMultiDict[str, str] | Response:
        """The form Twilio posted, once its signature checks out against the public URL."""
        channel = runtime.whatsapp
        if channel is None:
            return _error(404, "the WhatsApp channel is not configured")
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return _error(413, "request too large")
        try:
            params = ImmutableMultiDict(
                parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
            )
        except (UnicodeDecodeError, ValueError):
            return _error(400, "not a Twilio request")
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        url = request_url(runtime.settings.public_url, path, request.headers, str(request.url))
        if not channel.signature_valid(url, params, request.headers.get(TWILIO_SIGNATURE, "")):
            return _error(403, "missing or wrong Twilio signature")
        return params

    async def whatsapp_webhook(request: Request) -> Response:
        params = await whatsapp_params(request)
        if isinstance(params, Response):
            return params
        worker = runtime.whatsapp_inbox
        assert worker is not None
        message_sid = params.get("MessageSid") or params.get("SmsMessageSid")
        if not message_sid:
            return _error(400, "no MessageSid")
        await worker.store_durably(message_sid, inbound_payload(params, utcnow()))
        worker.wakeup.set()
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def whatsapp_status(request: Request) -> Response:
        params = await whatsapp_params(request)
        if isinstance(params, Response):
            return params
        message_sid, status = params.get("MessageSid"), params.get("MessageStatus")
        if not message_sid or not status:
            return _error(400, "no MessageSid or MessageStatus")

        def record() -> None:
            with runtime.db.unit_of_work() as session:
                record_status(session, message_sid, status, params.get("ErrorCode") or None)

        await run_in_threadpool(record)
        return Response(status_code=204)

    async def media(request: Request) -> Response:
        outbox_id, token = request.path_params["outbox_id"], request.path_params["token"]
        if not secrets.compare_digest(token, media_token(runtime.settings, outbox_id)):
            return _error(404, "not found")

        def load() -> bytes | None:
            with runtime.db.unit_of_work() as session:
                message = session.get(OutboxMessage, outbox_id)
                return message.image if message is not None else None

        image = await run_in_threadpool(load)
        if image is None:
            return _error(404, "not found")
        return Response(image, media_type="image/png")

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
            await runtime.finish(tasks)

    return Starlette(
        routes=[
            Route("/telegram", telegram_webhook, methods=["POST"]),
            Route("/whatsapp", whatsapp_webhook, methods=["POST"]),
            Route("/whatsapp/status", whatsapp_status, methods=["POST"]),
            Route("/media/{outbox_id:int}/{token}.png", media, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
