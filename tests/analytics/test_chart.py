"""The trend chart: a PNG a phone shows well, drawn quickly, without pyplot."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from matplotlib.image import imread

from analytics.chart import render_trend_chart
from analytics.periods import parse_period
from analytics.trend import IncidentFact, TrendReport, build_trend
from nlp.labels import CATEGORIES

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def busy_report(initiative: str = "Merelbuurt") -> TrendReport:
    """Every category, some rising and some falling."""
    current, previous = parse_period("4w", NOW, AMSTERDAM)
    facts = []
    for i, category in enumerate(CATEGORIES):
        for n, period in ((2 + 3 * i, current), (20 - 2 * i, previous)):
            facts += [
                IncidentFact(period.start + timedelta(hours=7 * k), category, False, False)
                for k in range(n)
            ]
    return build_trend(initiative, facts, current, previous, AMSTERDAM)


def decode(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    pixels = imread(io.BytesIO(png), format="png")
    height, width = pixels.shape[:2]
    return width, height


def test_the_chart_is_a_png_a_phone_shows_well() -> None:
    report = busy_report()
    assert report.rises and report.falls
    width, height = decode(render_trend_chart(report))
    assert width == 990
    assert 1000 < height < 1600


def test_a_chart_without_incidents_is_still_a_picture() -> None:
    current, previous = parse_period("4w", NOW, AMSTERDAM)
    width, height = decode(
        render_trend_chart(build_trend("Merelbuurt", [], current, previous, AMSTERDAM))
    )
    assert width == 990
    assert 300 < height < 600


def test_a_long_initiative_name_makes_the_title_wrap_not_the_picture_wider() -> None:
    name = "Buurtpreventie Oud-West en de Staatsliedenbuurt, inclusief de Frederik Hendrikbuurt"
    width, height = decode(render_trend_chart(busy_report(name)))
    assert width == 990
    assert height > decode(render_trend_chart(busy_report()))[1]


def test_the_chart_in_english() -> None:
    current, previous = parse_period("oktober", NOW, AMSTERDAM, "en")
    report = build_trend("Merelbuurt", [], current, previous, AMSTERDAM)
    assert decode(render_trend_chart(report, "en"))[0] == 990


def test_drawing_leaves_no_pyplot_state_behind() -> None:
    # In a fresh interpreter, because another test may have imported pyplot in this one.
    check = (
        "import sys\n"
        "from tests.analytics.test_chart import busy_report\n"
        "from analytics.chart import render_trend_chart\n"
        "render_trend_chart(busy_report())\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
