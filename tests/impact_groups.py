"""Groups driven through the real handlers (router, classifier, storage), as the inbox worker
drives them, and the steps that bring a group to each impact level."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handlers.context import Services
from handlers.messages import (
    BotAddedToGroup,
    ChatRef,
    IncomingEvent,
    IncomingMessage,
    MembersJoined,
    Person,
    RepliedTo,
    Reply,
)
from handlers.router import handle
from handlers.schouw_schedule import queue_schouw_messages
from nlp.classifier import get_classifier
from storage.db import Database
from storage.directory import find_chat
from storage.models import Event, EventStatus
from storage.outbox import enqueue

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
ANJA = Person("11", "Anja")  # the group's admin, so its first coordinator
KEES = Person("30", "Kees")
PIET = Person("32", "Piet")
JAN = Person("31", "Jan", "wijkagentjan")  # the wijkagent


@dataclass
class Clock:
    """The handlers' idea of now; tests move it to plan things in the past."""

    now: datetime


@dataclass
class Group:
    """One Telegram group of its own initiative."""

    db: Database
    clock: Clock
    number: int
    chat: ChatRef = field(init=False)
    services: Services = field(init=False)
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.chat = ChatRef("telegram", str(-1000 - self.number), f"Buurt {self.number}")
        self.services = Services(classifier=get_classifier(), zone=AMSTERDAM, now=self._now)

    def _now(self) -> datetime:
        return self.clock.now

    @property
    def name(self) -> str:
        return f"Buurt {self.number}"

    def handle(self, event: IncomingEvent) -> list[Reply]:
        """Handle one event in one unit of work and queue the replies, as the worker does."""
        with self.db.unit_of_work() as session:
            replies = handle(session, self.services, event)
            enqueue(session, replies)
        return replies

    def add_bot(self, admin: Person = ANJA) -> None:
        self.handle(BotAddedToGroup(self.chat, (admin,)))

    def say(
        self, who: Person, text: str, days_ago: float = 0, reply_to: str | None = None
    ) -> tuple[str, list[Reply]]:
        """Post `text`; returns the post's message id and the bot's replies."""
        message_id = f"{next(self._message_ids)}"
        replied = RepliedTo(reply_to) if reply_to else None
        sent_at = self.clock.now - timedelta(days=days_ago)
        event = IncomingMessage(self.chat, who, message_id, text, sent_at, replied)
        return message_id, self.handle(event)

    def join(self, *people: Person, days_ago: float = 0) -> list[Reply]:
        notice = f"{next(self._message_ids)}"
        sent_at = self.clock.now - timedelta(days=days_ago)
        return self.handle(MembersJoined(self.chat, people, notice, sent_at))

    def initiative_id(self) -> int:
        with self.db.unit_of_work() as session:
            chat = find_chat(session, self.chat.channel, self.chat.external_id)
            assert chat is not None
            return chat.initiative_id

    def hold_schouw(self, days_ago: float) -> None:
        """A coordinator plans a schouw with the wijkagent; the scheduler marks it held."""
        today = self.clock.now
        self.clock.now = today - timedelta(days=days_ago + 3)
        self.say(ANJA, "/schouw donderdag 19:30 bij de kerk met wijkagent")
        self.clock.now = today
        with self.db.unit_of_work() as session:
            chat = find_chat(session, self.chat.channel, self.chat.external_id)
            assert chat is not None
            event = session.scalars(
                select(Event).where(
                    Event.chat_id == chat.id, Event.status == EventStatus.PLANNED.value
                )
            ).one()
            assert event.starts_at is not None
            queue_schouw_messages(session, event.starts_at + timedelta(hours=3), AMSTERDAM)
            assert event.status == EventStatus.HELD.value


def level_1(group: Group) -> None:
    """Signals are posted, but much of what is said is chat; no agreements."""
    group.add_bot()
    group.say(KEES, "Bij nr 12 is vannacht ingebroken, achterdeur opengebroken", days_ago=100)
    group.say(PIET, "Fiets gestolen bij de bakker, blauw damesfiets", days_ago=90)
    group.say(KEES, "Lantaarnpaal bij het speelveld doet het al een week niet", days_ago=60)
    group.say(PIET, "Verdachte man kijkt bij de Lijsterstraat in auto's", days_ago=30)
    for days_ago, chat in enumerate(
        [
            "Goedemorgen allemaal",
            "Top, bedankt!",
            "Wie heeft er een ladder te leen?",
            "Haha ja leuk",
            "Fijne avond iedereen",
        ]
    ):
        group.say(KEES, chat, days_ago=days_ago + 1)


def level_2(group: Group) -> None:
    """Agreements posted, relevance clearly higher, and the wijkagent in the group."""
    level_1(group)
    group.say(ANJA, "Denk aan SAAR: eerst 112 bellen, dan pas appen", days_ago=80)
    group.say(ANJA, "Geen foto's van personen in de groep", days_ago=79)
    for days_ago, signal in (
        (70, "Twee scooters met veel lawaai 's nachts bij het winkelcentrum"),
        (50, "Weer een babbeltruc: nep-monteur belt aan bij ouderen op de Merelweg"),
        (40, "Graffiti op de muur van de basisschool"),
        (20, "Auto rijdt veel te hard door de Dorpsstraat, bijna een kind geraakt"),
    ):
        group.say(PIET, signal, days_ago=days_ago)
    group.say(JAN, "Hallo, Jan hier, de wijkagent", days_ago=10)
    group.say(ANJA, "/rol @wijkagentjan politie")


def level_3(group: Group) -> None:
    """Feedback on a real share of the signals, and a schouw held with the wijkagent."""
    level_2(group)
    for days_ago, signal, feedback in (
        (
            15,
            "Verdachte man probeert deurklinken bij de garages",
            "Politie is ter plaatse geweest, man is aangehouden",
        ),
        (12, "Lantaarnpaal bij het fietspad is kapot", "Gemeente heeft de lamp vandaag vervangen"),
        (
            8,
            "Bij nr 40 is ingebroken via de schuur",
            "Politie is langs geweest en heeft sporen onderzocht, er is aangifte gedaan",
        ),
        (
            4,
            "Scooter gestolen voor de deur bij de Kerkstraat",
            "De scooter is teruggevonden door de politie",
        ),
    ):
        signal_id, _ = group.say(PIET, signal, days_ago=days_ago)
        group.say(JAN, feedback, days_ago=days_ago - 0.1, reply_to=signal_id)
    group.hold_schouw(days_ago=25)


def level_4(group: Group) -> None:
    """New members welcomed with the rules, activities in many months, and a training."""
    level_3(group)
    group.join(Person("40", "Fatima"), Person("41", "Henk"), days_ago=30)
    group.join(Person("42", "Sanne"), days_ago=5)
    for days_ago, activity in (
        (150, "Donderdag 19:30 buurtoverleg in het buurthuis, wie komt er?"),
        (115, "Zaterdag om 10 uur ruimen we samen het zwerfvuil op bij het park, doe je mee?"),
        (80, "Wie doet mee met de EHBO-training op dinsdagavond in het buurthuis?"),
        (45, "Donderdag 19:30 buurtoverleg in het buurthuis, wie komt er?"),
    ):
        group.say(ANJA, activity, days_ago=days_ago)


def level_5(group: Group) -> None:
    """Ideas proposed, and one adopted by a coordinator."""
    level_4(group)
    group.say(KEES, "/idee een rooster voor de avondrondes")
    group.say(PIET, "/idee een bord bij de ingang van de wijk")
    group.say(KEES, "Idee: zullen we een buurtapp-cursus geven voor ouderen?", days_ago=2)
    group.say(ANJA, "/idee aannemen 1")


LEVEL_STEPS = [level_1, level_2, level_3, level_4, level_5]
