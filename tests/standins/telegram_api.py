"""A stand-in for the Telegram Bot API that speaks HTTP on loopback.

It answers like Telegram (`{"ok": true, "result": ...}`), records every call, and can be told to
fail the next calls of a method (a 429 with retry_after, a 500, ...).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_USER = {
    "id": 777000111,
    "is_bot": True,
    "first_name": "Buurtbot",
    "username": "buurtbot_test_bot",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class TelegramStandIn:
    """The fake Bot API's state: its token, the calls it got, and failures to serve next."""

    token: str = "123456:TEST-token-for-the-stand-in"
    admins: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5000))

    def fail_next(self, method: str, status: int, **parameters: Any) -> None:
        """Make the next call of `method` fail with `status` (429 takes retry_after=...)."""
        self.failures.setdefault(method, []).append((status, parameters))

    def sent(self, method: str = "sendMessage") -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, count: int, method: str = "sendMessage", timeout: float = 15) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.sent(method)
            if len(calls) >= count:
                return calls
            time.sleep(0.02)
        raise AssertionError(f"expected {count} {method} calls, got {len(self.sent(method))}")

    def app(self) -> Starlette:
        async def endpoint(request: Request) -> JSONResponse:
            token, method = request.path_params["token"], request.path_params["method"]
            if token != self.token:
                return JSONResponse(
                    {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
                )
            params = await _params(request)
            with self.lock:
                self.calls.append(Call(method, params, time.monotonic()))
                pending = self.failures.get(method)
                failure = pending.pop(0) if pending else None
            if failure is not None:
                return _failure(*failure)
            return JSONResponse({"ok": True, "result": self._result(method, params)})

        return Starlette(routes=[Route("/bot{token}/{method}", endpoint, methods=["GET", "POST"])])

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in {"sendMessage", "sendPhoto"}:
            chat_id = int(params["chat_id"])
            message: dict[str, Any] = {
                "message_id": next(self.message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "supergroup" if chat_id < 0 else "private"},
                "from": BOT_USER,
            }
            if method == "sendPhoto":
                message["photo"] = [
                    {"file_id": "f1", "file_unique_id": "u1", "width": 800, "height": 600}
                ]
                message["caption"] = params.get("caption", "")
            else:
                message["text"] = params.get("text", "")
            return message
        if method == "editMessageText":
            chat_id = int(params["chat_id"])
            return {
                "message_id": int(params["message_id"]),
                "date": int(time.time()),
                "edit_date": int(time.time()),
                "chat": {"id": chat_id, "type": "supergroup" if chat_id < 0 else "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
        if method == "getChatAdministrators":
            return self.admins.get(int(params["chat_id"]), [])
        if method in {"setWebhook", "deleteWebhook"}:
            return True
        return True


async def _params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        return dict(await request.json())
    params: dict[str, Any] = {}
    async with request.form() as form:  # closes uploaded files' temporary storage
        for key, value in form.items():
            if not isinstance(value, str):
                params[key] = await value.read()  # an uploaded file (sendPhoto)
                continue
            try:
                params[key] = json.loads(value) if value[:1] in "{[" else value
            except ValueError:
                params[key] = value
    return params


def _failure(status: int, parameters: dict[str, Any]) -> JSONResponse:
    descriptions = {
        429: f"Too Many Requests: retry after {parameters.get('retry_after', 1)}",
        400: "Bad Request: chat not found",
        403: "Forbidden: bot was kicked from the group chat",
        500: "Internal Server Error",
    }
    description = descriptions.get(status, "Error")
    if "migrate_to_chat_id" in parameters:
        description = "Bad Request: group chat was upgraded to a supergroup chat"
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status)


def admin(user_id: int, first_name: str, status: str = "administrator") -> dict[str, Any]:
    """A chat member entry as getChatAdministrators returns it."""
    member: dict[str, Any] = {
        "status": status,
        "user": {"id": user_id, "is_bot": False, "first_name": first_name},
        "is_anonymous": False,
    }
    if status == "administrator":
        member.update(
            {
                "can_be_edited": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
            }
        )
    return member
