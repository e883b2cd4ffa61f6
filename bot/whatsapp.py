"""The WhatsApp channel through Twilio: signed webhooks in, channel-neutral events out, replies sent.

WhatsApp lets no bot into resident groups, so the bot talks to each person one-to-one. Free text
may be sent only within 24 hours of the person's last message; outside that window the bot sends
an approved template (`config/whatsapp.toml`) instead.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from starlette.concurrency import run_in_threadpool
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

import config
from bot.delivery import PermanentError, RetryLater, TransientError
from bot.inbox import UnreadableUpdate
from handlers.messages import ChatRef, Ignored, IncomingEvent, IncomingMessage, Person
from storage.models import Channel, OutboxMessage, utcnow

log = logging.getLogger(__name__)
# Twilio's client logs every request at INFO; phone numbers stay out of our logs.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

TEMPLATES_FILE = Path(config.__file__).resolve().parent / "whatsapp.toml"
DEFAULT_TEMPLATE = "melding"
# Free text within 24 hours of the last message; a little margin for time spent in the queue.
SESSION_WINDOW = timedelta(hours=24) - timedelta(minutes=5)
BODY_LIMIT = 1600
VARIABLE_LIMIT = 1000
# The form fields of an inbound message the bot needs; the rest is not kept.
INBOUND_FIELDS = ("MessageSid", "From", "Body", "ProfileName", "ButtonPayload", "NumMedia")
_NUMBER = re.compile(r"^whatsapp:\+\d{6,15}$")


@dataclass(frozen=True)
class Template:
    """An approved WhatsApp template: its Twilio ContentSid and the order of its variables."""

    name: str
    content_sid: str
    variables: tuple[str, ...]


def load_templates(path: Path = TEMPLATES_FILE) -> dict[str, Template]:
    with path.open("rb") as file:
        raw = tomllib.load(file).get("templates", {})
    templates = {
        name: Template(name, str(entry["content_sid"]), tuple(entry.get("variables", ())))
        for name, entry in raw.items()
    }
    if DEFAULT_TEMPLATE not in templates:
        raise ValueError(f"{path} has no [templates.{DEFAULT_TEMPLATE}] for plain messages")
    return templates


class RedirectedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Twilio's own HTTP client, aimed at another base URL (a stand-in or a proxy)."""

    def __init__(self, base_url: str, timeout: float = 15) -> None:
        super().__init__(timeout=timeout)
        self.base = urlsplit(base_url)

    def request(self, method: str, url: str, *args: object, **kwargs: object) -> Response:
        parts = urlsplit(url)
        redirected = urlunsplit(
            (
                self.base.scheme,
                self.base.netloc,
                self.base.path.rstrip("/") + parts.path,
                parts.query,
                "",
            )
        )
        return super().request(method, redirected, *args, **kwargs)


def first_name(profile_name: str) -> str:
    """Only the first word of the WhatsApp profile name is kept."""
    words = profile_name.split()
    return words[0][:80] if words else ""


def inbound_payload(form: Mapping[str, str], received_at: datetime) -> str:
    """What the inbox keeps of an inbound message: the fields the bot uses, and when it came."""
    kept = {name: form[name] for name in INBOUND_FIELDS if name in form}
    kept["ReceivedAt"] = received_at.isoformat()
    return json.dumps(kept, ensure_ascii=False)


def request_url(
    public_url: str | None, path_and_query: str, headers: Mapping[str, str], seen_url: str
) -> str:
    """The URL Twilio signed: under PUBLIC_URL when set, else as the proxy forwarded it."""
    if public_url:
        return public_url.rstrip("/") + path_and_query
    seen = urlsplit(seen_url)
    scheme = headers.get("x-forwarded-proto", seen.scheme).split(",")[0].strip()
    host = headers.get("x-forwarded-host", headers.get("host", seen.netloc)).split(",")[0].strip()
    return f"{scheme}://{host}{path_and_query}"


class WhatsAppChannel:
    """Sends through Twilio's REST API and reads Twilio's webhooks."""

    channel = Channel.WHATSAPP.value

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        sender: str,
        api_url: str | None,
        public_url: str | None,
        last_inbound: Callable[[str], datetime | None],
        media_url: Callable[[OutboxMessage], str | None] = lambda _message: None,
        templates: dict[str, Template] | None = None,
    ) -> None:
        http_client = RedirectedHttpClient(api_url) if api_url else TwilioHttpClient(timeout=15)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.validator = RequestValidator(auth_token)
        self.sender = sender
        self.public_url = public_url
        self.last_inbound = last_inbound
        self.media_url = media_url
        self.templates = templates or load_templates()

    def signature_valid(self, url: str, params: Mapping[str, str], signature: str) -> bool:
        return bool(signature) and self.validator.validate(url, dict(params), signature)

    async def to_event(self, payload: str) -> IncomingEvent:
        """Map one stored inbound message to what the handlers understand."""
        try:
            fields = json.loads(payload)
            number = fields["From"]
            received_at = datetime.fromisoformat(fields["ReceivedAt"])
            message_id = fields["MessageSid"]
        except (TypeError, KeyError, ValueError) as error:
            raise UnreadableUpdate(f"{type(error).__name__}: {error}") from error
        if not isinstance(number, str) or not _NUMBER.match(number):
            return Ignored(reason="not from a WhatsApp number")
        text = (fields.get("Body") or fields.get("ButtonPayload") or "").strip()
        if not text and fields.get("NumMedia", "0") in ("", "0"):
            return Ignored(reason="empty message")
        return IncomingMessage(
            chat=ChatRef(self.channel, number, None, is_group=False),
            sender=Person(external_id=number, first_name=first_name(fields.get("ProfileName", ""))),
            message_id=message_id,
            text=text,
            sent_at=received_at,
        )

    def _window_open(self, number: str) -> bool:
        last = self.last_inbound(number)
        return last is not None and utcnow() - last < SESSION_WINDOW

    def _content(self, message: OutboxMessage, window_open: bool) -> dict[str, object]:
        """Free text inside the 24-hour window, an approved template outside it."""
        if window_open:
            body = message.text
            if len(body) > BODY_LIMIT:
                body = body[: BODY_LIMIT - 1] + "…"
            content: dict[str, object] = {"body": body}
            media = self.media_url(message) if message.image else None
            if media:
                content["media_url"] = [media]
            return content
        template = self.templates.get(message.template or DEFAULT_TEMPLATE)
        if template is None:
            template = self.templates[DEFAULT_TEMPLATE]
        values = {"text": message.text, **json.loads(message.template_values or "{}")}
        variables = {
            str(number): str(values.get(name, ""))[:VARIABLE_LIMIT]
            for number, name in enumerate(template.variables, start=1)
        }
        return {"content_sid": template.content_sid, "content_variables": json.dumps(variables)}

    def _create(self, message: OutboxMessage) -> str:
        content = self._content(message, self._window_open(message.chat_external_id))
        callback = f"{self.public_url}/whatsapp/status" if self.public_url else None
        created = self.client.messages.create(
            to=message.chat_external_id,
            from_=self.sender,
            status_callback=callback,
            **content,
        )
        return str(created.sid)

    async def send(self, message: OutboxMessage) -> str:
        """Send one outbox message; errors are mapped to what the delivery loop should do."""
        if message.action != "send":
            # Edits and button notices exist only in Telegram; WhatsApp has nothing to update.
            return message.target_message_id or ""
        try:
            return await run_in_threadpool(self._create, message)
        except TwilioRestException as error:
            if error.status == 429:
                raise RetryLater(1.0) from error
            if error.status >= 500 or error.status in (401, 403):
                raise TransientError(f"Twilio {error.status} {error.code}") from error
            # Only the codes: Twilio's message text can quote the phone number.
            raise PermanentError(f"Twilio {error.status} {error.code}") from error
        except OSError as error:  # requests' connection errors and timeouts
            raise TransientError(type(error).__name__) from error
