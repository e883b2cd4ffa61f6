"""The Communitymonitor: opt in with /monitor, the export holds exactly the opted-in
initiatives; and `buurtbot impact` on the command line."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from analytics.impact.monitor import month_ends
from handlers.texts import text
from storage.db import Database
from tests.impact_groups import ANJA, KEES, Clock, Group, level_1, level_3


def buurtbot(db: Database, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**os.environ, "DATABASE_URL": db.url},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_export_holds_exactly_the_initiatives_that_opted_in(db: Database, tmp_path: Path) -> None:
    clock = Clock(datetime.now(UTC))
    joining, leaving, never = Group(db, clock, 3), Group(db, clock, 1), Group(db, clock, 7)
    level_3(joining)
    level_1(leaving)
    level_1(never)
    _, [refused] = never.say(KEES, "/monitor aan")  # Kees is no coordinator
    assert "coördinator" in refused.text
    _, [joined] = joining.say(ANJA, "/monitor aan")
    assert joined.text == text("monitor_on", "nl", initiative="Buurt 3")
    leaving.say(ANJA, "/monitor aan")
    _, [left] = leaving.say(ANJA, "/monitor uit")
    assert left.text == text("monitor_off", "nl", initiative="Buurt 1")

    result = buurtbot(
        db, "monitor", "export", "--year", str(clock.now.year), "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    with open(tmp_path / f"communitymonitor-{clock.now.year}.csv", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [row["initiative"] for row in rows] == ["Buurt 3"]
    [row] = rows
    assert row["level"] == "3" and row["schouwen_met_partners_met"] == "yes"
    assert row["ledengroei_met"] == "no"
    assert row[f"level_{clock.now:%Y-%m}"] == "3"
    report = (tmp_path / f"communitymonitor-{clock.now.year}.html").read_text(encoding="utf-8")
    assert "Buurt 3" in report and "Buurt 1" not in report and "Buurt 7" not in report
    assert "Niveau 3 · Co-operatie" in report
    assert "⬜ nieuwe leden: 0 (nodig: 3)" in report  # the explanation, criterion by criterion
    assert report.count('src="data:image/png;base64,') == 2  # levels chart + this one's trend
    assert 'src="http' not in report and "<link" not in report  # nothing to fetch


def test_export_without_opted_in_initiatives_says_so(db: Database, tmp_path: Path) -> None:
    level_1(Group(db, Clock(datetime.now(UTC)), 1))
    result = buurtbot(db, "monitor", "export", "--year", "2026", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "communitymonitor-2026.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1  # the header only
    report = (tmp_path / "communitymonitor-2026.html").read_text(encoding="utf-8")
    assert text("monitor_report_empty") in report and "Buurt 1" not in report


def test_month_ends_stop_at_now() -> None:
    ends = month_ends(2026, datetime(2026, 3, 10, tzinfo=UTC))
    assert ends == [
        ("2026-01", datetime(2026, 2, 1, tzinfo=UTC)),
        ("2026-02", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03", datetime(2026, 3, 10, tzinfo=UTC)),
    ]
    assert month_ends(2025, datetime(2026, 3, 10, tzinfo=UTC))[-1] == (
        "2025-12",
        datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_impact_command_prints_json_and_a_table(db: Database) -> None:
    level_1(Group(db, Clock(datetime.now(UTC)), 1))
    result = buurtbot(db, "impact", "--initiative", "Buurt 1", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["level"] == 1 and 0 <= answer["progress"] <= 100
    assert {"name", "value", "threshold", "met"} <= set(answer["criteria"][0])
    by_name = {item["name"]: item for item in answer["criteria"]}
    assert by_name["meldingen"] == {**by_name["meldingen"], "value": 4, "threshold": 3, "met": True}
    assert by_name["afspraken"]["met"] is False
    table = buurtbot(db, "impact", "--initiative", "Buurt 1")
    assert table.returncode == 0, table.stderr
    assert "Gezamenlijk perspectief" in table.stdout and "afspraken gedeeld" in table.stdout
    unknown = buurtbot(db, "impact", "--initiative", "Nergensbuurt", "--json")
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert "Geen initiatief met de naam “Nergensbuurt”" in unknown.stderr
    assert "No initiative named" in unknown.stderr
