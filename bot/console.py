"""The console channel: talk to the bot in a terminal, as a member of a demo group.

Lines typed here go through exactly the same handlers, storage and outbox as Telegram posts;
the console is just another channel whose "sending" is printing.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from rich.console import Console
from rich.panel import Panel
from sqlalchemy import select

from bot.delivery import Deliverer, RateLimiter
from handlers.context import Services
from handlers.messages import Button, ButtonPressed, ChatRef, IncomingMessage, Person
from handlers.router import handle
from handlers.texts import text
from nlp.classifier import get_classifier
from storage import outbox
from storage.db import Database
from storage.directory import bind_chat, upsert_member
from storage.models import Channel, Message, OutboxMessage, Role
from storage.outbox import buttons_of

DEMO_CHAT = ChatRef(
    channel=Channel.CONSOLE.value, external_id="demo", title="Demo Buurtpreventie", is_group=True
)
CONSOLE_ROLES = {"lid": Role.LID, "coordinator": Role.COORDINATOR, "coördinator": Role.COORDINATOR}


class ConsoleSender:
    """Delivers outbox messages for the console by printing them."""

    channel = Channel.CONSOLE.value

    def __init__(self, console: Console) -> None:
        self.console = console
        # The newest message with buttons: its id and buttons, so `/knop 1` can press one.
        self.buttons: tuple[str, list[Button]] | None = None

    async def send(self, message: OutboxMessage) -> str:
        if message.action == "notice":
            self.console.print(f"🔔 {message.text}", style="dim")
            return f"console-{message.id}"
        body = message.text
        buttons = buttons_of(message)
        message_id = message.target_message_id if message.action == "edit" else None
        message_id = message_id or f"console-{message.id}"
        if buttons:
            body += "\n\n" + "  ".join(
                f"[{number}: {button.label}]" for number, button in enumerate(buttons, start=1)
            )
            body += "\n" + text("console_buttons")
            self.buttons = (message_id, buttons)
        if message.image is not None:
            body += "\n\n" + text("console_image", size=len(message.image) // 1024)
        self.console.print(Panel(body, title="🤖 Buurtbot", border_style="cyan"))
        return message_id


class ConsoleSession:
    """One person in the demo group, typing lines."""

    def __init__(self, db: Database, person: Person, console: Console) -> None:
        self.db = db
        self.person = person
        self.console = console
        self.services = Services(classifier=get_classifier())
        self.sender = ConsoleSender(console)
        self.deliverer = Deliverer(db, [self.sender], RateLimiter(1000, 0, 1_000_000))
        self.presses = 0

    def set_role(self, role: Role) -> None:
        with self.db.unit_of_work() as session:
            chat, _ = bind_chat(
                session, DEMO_CHAT.channel, DEMO_CHAT.external_id, DEMO_CHAT.title, True
            )
            member = upsert_member(
                session,
                chat.initiative_id,
                chat.channel,
                self.person.external_id,
                self.person.first_name,
                None,
            )
            member.role = role.value

    def post(self, line: str) -> Message | None:
        """Hand one typed line to the handlers; returns the stored message, if it was a post."""
        incoming = IncomingMessage(
            chat=DEMO_CHAT,
            sender=self.person,
            message_id=f"console-{time.time_ns()}",
            text=line,
            sent_at=datetime.now(UTC),
        )
        with self.db.unit_of_work() as session:
            outbox.enqueue(session, handle(session, self.services, incoming))
            stored = session.scalars(
                select(Message).where(Message.channel_message_id == incoming.message_id)
            ).one_or_none()
        asyncio.run(self.deliverer.deliver_due())
        return stored

    def press(self, number: int) -> bool:
        """Press button `number` under the newest message that has buttons; False if none."""
        if self.sender.buttons is None or not 1 <= number <= len(self.sender.buttons[1]):
            return False
        message_id, buttons = self.sender.buttons
        self.presses += 1
        pressed = ButtonPressed(
            chat=DEMO_CHAT,
            sender=self.person,
            message_id=message_id,
            data=buttons[number - 1].data,
            callback_id=f"console-press-{self.presses}",
        )
        with self.db.unit_of_work() as session:
            outbox.enqueue(session, handle(session, self.services, pressed))
        asyncio.run(self.deliverer.deliver_due())
        return True

    def show_labels(self, message: Message) -> None:
        labels = " · ".join(
            part
            for part in (message.kind, message.category, "urgent" if message.urgent else "")
            if part
        )
        self.console.print(
            text("console_labels", labels=labels, confidence=f"{message.confidence:.0%}"),
            style="dim",
        )


def run_console(db: Database, role: str, name: str) -> None:
    """The interactive loop of `buurtbot chat`."""
    console = Console()
    session = ConsoleSession(
        db, Person(external_id=f"console-{name.lower()}", first_name=name), console
    )
    chosen = CONSOLE_ROLES.get(role.lower(), Role.LID)
    session.set_role(chosen)
    console.print(
        Panel(
            text(
                "console_welcome",
                name=name,
                role=text(f"role_{chosen.value}"),
                group=DEMO_CHAT.title,
            ),
            title="👋 Buurtbot",
            border_style="green",
        )
    )
    while True:
        try:
            line = console.input("[bold]jij>[/bold] ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not line:
            continue
        if line.lower() in {"/stop", "/exit", "/quit"}:
            break
        if line.lower().startswith("/als"):
            wanted = CONSOLE_ROLES.get(line[4:].strip().lower())
            if wanted is None:
                console.print(text("console_role_unknown"))
                continue
            session.set_role(wanted)
            console.print(text("console_role_switched", role=text(f"role_{wanted.value}")))
            continue
        if line.lower().startswith("/knop"):
            number = line[5:].strip()
            if not (number.isdigit() and session.press(int(number))):
                console.print(text("console_no_button"))
            continue
        stored = session.post(line)
        if stored is not None:
            session.show_labels(stored)
    console.print(text("console_bye"))
