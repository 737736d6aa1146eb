"""Numbers and durations written in French for the instructor's outputs (summary, report, exports)."""

from __future__ import annotations


def format_number(value: float) -> str:
    """A number as French text: at most two decimals, a decimal comma."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def format_duration(seconds: float) -> str:
    """A delay in minutes (at least one), hours and minutes below two days, days beyond."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d}"
    return f"{hours // 24} jours"
