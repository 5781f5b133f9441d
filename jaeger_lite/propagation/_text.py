"""Checks and encodings shared by the header formats: tokens, control characters, escaping.

Inject never writes a header name or value holding a control character (C0, DEL or C1):
in the HTTP-headers format values are percent-encoded, so they are always printable ASCII;
in the text-map format (no encoding by definition) an item holding one is dropped.
Header names (baggage keys) must be RFC 7230 tokens in HTTP headers; other keys are
dropped. Every drop is counted by the codec's ``dropped`` counter.
"""

from __future__ import annotations

import re
from typing import Optional

#: RFC 7230 ``token``: what an HTTP header name (and a W3C baggage key) may hold.
TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: C0 controls, DEL and C1 controls: never written into any carrier.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Values made only of these need no percent-encoding (``quote(value, safe="")`` keeps them).
_URL_SAFE_RE = re.compile(r"[A-Za-z0-9_.~-]*")

_CACHE_MAX = 512


class HeaderNames:
    """Memoised ``prefix + key`` header names for baggage keys; None when not allowed.

    Baggage keys repeat across requests, so checking each key once keeps the regex off the
    inject hot path. The cache is bounded: past ``_CACHE_MAX`` keys it starts afresh.
    """

    __slots__ = ("prefix", "http", "cache")

    def __init__(self, prefix: str, http: bool) -> None:
        self.prefix = prefix
        self.http = http
        self.cache: dict[str, Optional[str]] = {}

    def get(self, key: str) -> Optional[str]:
        try:
            return self.cache[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable (non-str) key in a hand-built context
            return None
        if key.__class__ is not str:
            name = None
        elif self.http:
            name = self.prefix + key if TOKEN_RE.fullmatch(key) else None
        else:
            name = self.prefix + key if key and not CONTROL_RE.search(key) else None
        if len(self.cache) >= _CACHE_MAX:
            self.cache = {}
        self.cache[key] = name
        return name


def _escapes(safe: str) -> dict[int, str]:
    """A ``str.translate`` table percent-encoding every ASCII character not in ``safe``."""
    keep = set(safe) | set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
    return {code: f"%{code:02X}" for code in range(128) if chr(code) not in keep}


_URL_ESCAPES = _escapes("")


#: ``url_safe(value)`` is truthy when ``url_encode(value)`` would return it unchanged.
url_safe = _URL_SAFE_RE.fullmatch


def url_encode(value: str) -> str:
    """Percent-encode everything but ``A-Za-z0-9_.~-`` as UTF-8 (a space becomes ``%20``)."""
    if _URL_SAFE_RE.fullmatch(value):
        return value
    if value.isascii():  # str.translate runs in C: twice as fast as quote()
        return value.translate(_URL_ESCAPES)
    from urllib.parse import quote  # rare (non-ASCII): urllib.parse loads on first use

    return quote(value, safe="", errors="surrogatepass")


#: At most this many characters of percent-encoding make one decoded character (4 UTF-8
#: bytes of 3 characters each; an invalid sequence decodes to one U+FFFD per 1-4 bytes):
#: a value longer than ``MAX_ESCAPE * n`` decodes to more than ``n`` characters.
MAX_ESCAPE = 12


def decodes_within(value: str, limit: int) -> bool:
    """False when ``value``, percent-decoded, is surely longer than ``limit`` characters:
    extract then skips decoding it (it would be dropped anyway), so a huge header costs
    a length check rather than a Python loop per ``%``."""
    return len(value) <= MAX_ESCAPE * limit


def _unescapes() -> dict[str, str]:
    """``"2f"``, ``"2F"`` → ``"/"``: every ASCII character's escape, hex digits in any case."""
    table = {}
    for code in range(128):
        digits = f"{code:02x}"
        high, low = digits[0], digits[1]
        for first in {high, high.upper()}:
            for second in {low, low.upper()}:
                table[first + second] = chr(code)
    return table


_ASCII_UNESCAPES = _unescapes()


def url_decode(value: str, plus: bool = True) -> str:
    """Undo percent-encoding (UTF-8; invalid bytes become U+FFFD; a ``%`` not followed by
    two hex digits stays); with ``plus`` a ``+`` is a space too, as in a query string."""
    if plus and "+" in value:
        value = value.replace("+", " ")
    if "%" not in value:
        return value
    parts = value.split("%")
    out = [parts[0]]
    escapes = _ASCII_UNESCAPES
    for part in parts[1:]:
        char = escapes.get(part[:2])
        if char is None:  # a non-ASCII byte or a stray "%": the general decoder
            from urllib.parse import unquote  # rare: loads on first use

            return unquote(value, errors="replace")
        out.append(char)
        out.append(part[2:])
    return "".join(out)
