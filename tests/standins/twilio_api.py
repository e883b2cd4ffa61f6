"""A stand-in for Twilio's REST API (Messages) that speaks HTTP on loopback.

It checks HTTP basic auth with the account SID and auth token, answers like Twilio (201 with a
message resource, or Twilio's error JSON), records every message, and can be told to fail the
next calls (a 429, a 500, a 400 with an error code). It also signs webhooks the way Twilio does,
so tests can post inbound messages and status callbacks to the bot.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from twilio.request_validator import RequestValidator


@dataclass
class SentMessage:
    params: dict[str, str]
    at: float
    sid: str

    @property
    def to(self) -> str:
        return self.params["To"]

    @property
    def is_template(self) -> bool:
        return "ContentSid" in self.params


@dataclass
class TwilioStandIn:
    account_sid: str = "AC" + "0" * 31 + "1"
    auth_token: str = "twilio-test-auth-token"
    sender: str = "whatsapp:+3197010000001"
    messages: list[SentMessage] = field(default_factory=list)
    failures: list[tuple[int, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    url: str = ""

    def fail_next(self, status: int, code: int) -> None:
        self.failures.append((status, code))

    def sent(self) -> list[SentMessage]:
        with self.lock:
            return list(self.messages)

    def wait_for(self, count: int, timeout: float = 15) -> list[SentMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent()
            if len(sent) >= count:
                return sent
            time.sleep(0.02)
        raise AssertionError(f"expected {count} Twilio messages, got {len(self.sent())}")

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def app(self) -> Starlette:
        async def create_message(request: Request) -> JSONResponse:
            if request.path_params["account"] != self.account_sid or not self._authorised(request):
                return _error(401, 20003, "Authenticate")
            params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
            if "To" not in params or "From" not in params:
                return _error(400, 21604, "A 'To' phone number is required.")
            if "Body" not in params and "ContentSid" not in params:
                return _error(400, 21619, "A text message body or media urls must be specified.")
            with self.lock:
                failure = self.failures.pop(0) if self.failures else None
                if failure is None:
                    sid = f"SM{next(self.numbers):032x}"
                    self.messages.append(SentMessage(params, time.monotonic(), sid))
            if failure is not None:
                return _error(failure[0], failure[1], "failure asked for by the test")
            return JSONResponse(
                {
                    "sid": sid,
                    "account_sid": self.account_sid,
                    "to": params["To"],
                    "from": params["From"],
                    "body": params.get("Body", ""),
                    "status": "queued",
                    "direction": "outbound-api",
                    "num_segments": "1",
                    "api_version": "2010-04-01",
                    "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
                    "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
                },
                status_code=201,
            )

        return Starlette(
            routes=[
                Route(
                    "/2010-04-01/Accounts/{account}/Messages.json",
                    create_message,
                    methods=["POST"],
                )
            ]
        )

    def signature(self, url: str, params: dict[str, str]) -> str:
        return str(RequestValidator(self.auth_token).compute_signature(url, params))

    def post_webhook(
        self,
        http: httpx.Client,
        to: str,
        params: dict[str, str],
        signed_url: str | None = None,
        headers: dict[str, str] | None = None,
        signature: str | None = None,
    ) -> httpx.Response:
        """POST a form to the bot as Twilio does, signed for `signed_url` (default: `to`)."""
        sent_headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature
            if signature is not None
            else self.signature(signed_url or to, params),
            **(headers or {}),
        }
        return http.post(to, content=urlencode(params), headers=sent_headers)

    def inbound(self, number: str, body: str, sid: str, profile_name: str = "") -> dict[str, str]:
        """The form of an inbound WhatsApp message as Twilio posts it."""
        return {
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ProfileName": profile_name,
            "MessageType": "text",
            "SmsSid": sid,
            "WaId": number.lstrip("+"),
            "SmsStatus": "received",
            "Body": body,
            "To": self.sender,
            "NumSegments": "1",
            "ReferralNumMedia": "0",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": f"whatsapp:{number}",
            "ApiVersion": "2010-04-01",
        }


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )
