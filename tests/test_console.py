"""`buurtbot chat`: the newcomer talks to the bot in a terminal, through the same handlers and storage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from storage.db import Database
from storage.models import Member, Message


def chat(database_url: str, lines: list[str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": database_url, "COLUMNS": "120"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_console_labels_posts_and_reminds_of_saar(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/chat.db"
    output = chat(
        url,
        [
            "goedemorgen allemaal",
            "HELP er komt rook uit het huis op nr 12, ik zie vlammen!!",
            "/help",
        ],
    )
    assert "Welkom" in output
    assert "SAAR" in output and "112" in output
    assert "brand" in output and "urgent" in output
    assert "/rol" in output, "the help text came back"
    assert "Tot ziens" in output
    db = Database(url)
    with db.unit_of_work() as session:
        stored = list(session.scalars(select(Message).order_by(Message.id)))
    db.dispose()
    assert [m.kind for m in stored] == ["overig", "signaal"]
    assert stored[1].category == "brand" and stored[1].urgent


def test_console_role_switch_makes_you_coordinator(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/chat.db"
    output = chat(url, ["/rol", "/als coordinator", "/rol"], "--naam", "Anja")
    assert output.count("Coördinatoren: nog niemand") == 1
    assert "Coördinatoren: Anja" in output
    db = Database(url)
    with db.unit_of_work() as session:
        [anja] = session.scalars(select(Member))
    db.dispose()
    assert (anja.display_name, anja.role) == ("Anja", "coordinator")


def test_console_buttons_can_be_pressed(tmp_path: Path) -> None:
    from storage.models import Rsvp

    url = f"sqlite:///{tmp_path}/chat.db"
    output = chat(
        url,
        ["/schouw overmorgen 19:30 bij de kerk", "/knop 1", "/knop 9"],
        "--rol",
        "coordinator",
        "--naam",
        "Anja",
    )
    assert "[1: ✅ Ik kom]" in output and "/knop 1" in output
    assert "Genoteerd: je komt" in output
    assert "✅ 1 komen" in output, "the invitation is shown again with the new count"
    assert "geen knop met dat nummer" in output
    db = Database(url)
    with db.unit_of_work() as session:
        [rsvp] = session.scalars(select(Rsvp))
    db.dispose()
    assert rsvp.answer == "ja"
