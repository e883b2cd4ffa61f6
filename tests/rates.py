"""Measuring send rates as the receiving server saw them."""

from __future__ import annotations


def most_in_any_second(times: list[float]) -> int:
    """The most arrivals within any one second."""
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most
