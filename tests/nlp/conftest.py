"""Fixtures for the classifier tests: the shipped model and the real `buurtbot` command."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nlp.classifier import Classifier

RunCommand = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    """The shipped model, loaded once for the session."""
    return Classifier.load()


@pytest.fixture(scope="session")
def buurtbot_command() -> list[str]:
    """The installed `buurtbot` console script of this virtualenv."""
    script = Path(sys.executable).with_name("buurtbot")
    if not script.exists():
        pytest.fail("`buurtbot` is not installed: run `pip install -e '.[test]'`")
    return [str(script)]


@pytest.fixture
def run_buurtbot(buurtbot_command: list[str]) -> RunCommand:
    """Run `buurtbot <args>` with bytes on stdin; fail the test on a non-zero exit."""

    def run(
        *args: str, stdin: bytes = b"", check: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run(
            [*buurtbot_command, *args], input=stdin, capture_output=True, timeout=300
        )
        if check and done.returncode != 0:
            pytest.fail(f"buurtbot {' '.join(args)} exited {done.returncode}: {done.stderr!r}")
        return done

    return run


@pytest.fixture
def classify_lines(run_buurtbot: RunCommand) -> Callable[[bytes], list[dict[str, Any]]]:
    """Feed bytes to `buurtbot classify` and parse every output line as JSON."""

    def classify(stdin: bytes) -> list[dict[str, Any]]:
        output = run_buurtbot("classify", stdin=stdin).stdout
        return [json.loads(line) for line in output.decode("utf-8").splitlines()]

    return classify
