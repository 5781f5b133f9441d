"""Text from user values that may refuse to become text (conversions that never raise),
and counts in words for log lines."""

from __future__ import annotations

from typing import Any

__all__ = ["int_text", "log_line_text", "plural", "safe_repr", "safe_str"]


def safe_str(value: Any) -> str:
    """``str(value)``, or ``<unprintable TYPE>`` when that raises: a user ``__str__`` that
    fails or returns a non-str, an int past ``str()``'s digit limit (Python 3.11+)."""
    try:
        return str(value)
    except Exception:  # foreign code: whatever it raises, tracing carries on
        return f"<unprintable {type(value).__name__}>"


def safe_repr(value: Any) -> str:
    """``repr(value)``, or ``<unprintable TYPE>`` when that raises (an exception's own
    ``__repr__`` may fail: the error is still recorded)."""
    try:
        return repr(value)
    except Exception:  # foreign code: whatever it raises, tracing carries on
        return f"<unprintable {type(value).__name__}>"


def int_text(value: int) -> str:
    """Decimal text of an int, or ``<int of N bits>`` past ``str()``'s digit limit."""
    try:
        return str(value)
    except ValueError:  # Python 3.11+: over sys.get_int_max_str_digits() digits
        return f"<int of {value.bit_length()} bits>"


def plural(count: int, word: str) -> str:
    """``1 span``, ``2 spans``: log lines that read as English."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def log_line_text(text: str, limit: int = 200) -> str:
    """Text from a peer (a collector's message) fit for one log line: at most ``limit``
    characters (a longer text is cut, saying how much), and whatever is not printable
    (newlines, terminal escapes, bidi controls, lone surrogates) written as its escape."""
    cut = len(text) - limit
    if cut > 0:
        text = text[:limit]
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return f"{text}... ({cut} more characters)" if cut > 0 else text
