"""Trends for coordinators: periods, counts per category, notable changes, text and chart.

Pure functions over plain records, no database: the /trend handler and the weekly digest fetch
`IncidentFact`s and call these. The impact score, which counts in the database, is
`analytics.impact`.
"""

from analytics.chart import render_trend_chart
from analytics.periods import Period, PeriodError, parse_period
from analytics.stats import compare_counts
from analytics.summary import render_trend_text, suggested_next_step
from analytics.trend import CategoryChange, IncidentFact, TrendReport, build_trend

__all__ = [
    "CategoryChange",
    "IncidentFact",
    "Period",
    "PeriodError",
    "TrendReport",
    "build_trend",
    "compare_counts",
    "parse_period",
    "render_trend_chart",
    "render_trend_text",
    "suggested_next_step",
]
