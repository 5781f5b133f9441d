"""What every integration shares: which tracer to use, URLs safe to record, and the one
guard through which a failure of tracing is counted and logged instead of raised."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Optional

from .._global import global_tracer
from .._metrics import Counter
from ..tracer import Tracer

__all__ = [
    "REDACTED",
    "SECRET_QUERY_PARAMETERS",
    "clean_url",
    "failed",
    "metrics",
    "redact_query",
    "tracer_or_global",
]

_log = logging.getLogger("jaeger_lite")

#: Failures of tracing caught at an integration boundary (the application carried on).
ERRORS = Counter()

#: The value that replaces a secret query parameter's value in ``http.url``.
REDACTED = "REDACTED"

#: Query parameters whose values never reach ``http.url`` (compared in lower case, with
#: ``-`` read as ``_``): passwords, tokens, API keys, session ids and the signatures of
#: pre-signed URLs (AWS, Google Cloud, Azure). A name ending in ``_token``, ``_secret``,
#: ``_key``, ``_password`` or ``_signature`` is secret too.
SECRET_QUERY_PARAMETERS: frozenset[str] = frozenset(
    {
        "access_token", "api_key", "apikey", "auth", "authorization", "client_secret",
        "code", "credential", "id_token", "jwt", "key", "pass", "passwd", "password",
        "pwd", "refresh_token", "secret", "session", "session_id", "sessionid", "sid",
        "sig", "signature", "token", "awsaccesskeyid", "x_amz_credential",
        "x_amz_security_token", "x_amz_signature", "x_goog_credential", "x_goog_signature",
    }
)  # fmt: skip
_SECRET_SUFFIXES = ("_token", "_secret", "_key", "_password", "_signature")


def tracer_or_global(tracer: Optional[Tracer]) -> Tracer:
    """``tracer``, or the global tracer as it is now (so integrations set up at import time
    follow an ``init_tracer`` that runs later)."""
    return tracer if tracer is not None else global_tracer()


def failed(what: str) -> None:
    """Count and log (at debug level, with the traceback) a failure of tracing that was
    kept from the application. Call it from an ``except`` block."""
    ERRORS.inc()
    _log.debug("%s failed; the application carries on untraced", what, exc_info=True)


def metrics() -> dict[str, int]:
    """Counters of all integrations: ``integration_errors`` (failures kept from the app)."""
    return {"integration_errors": ERRORS.value}


def is_secret(name: str, secrets: frozenset[str] = SECRET_QUERY_PARAMETERS) -> bool:
    """True when a query parameter of this name has its value redacted."""
    key = name.lower().replace("-", "_")
    if key in secrets:
        return True
    return secrets is SECRET_QUERY_PARAMETERS and key.endswith(_SECRET_SUFFIXES)


def redact_query(query: str, secrets: frozenset[str] = SECRET_QUERY_PARAMETERS) -> str:
    """``query`` with the value of every secret parameter replaced by ``REDACTED``; the
    rest is kept as sent (names, order and encoding)."""
    parts = query.split("&")
    changed = False
    for index, part in enumerate(parts):
        name, equals, value = part.partition("=")
        if value and is_secret(_unquote_name(name), secrets):
            parts[index] = f"{name}{equals}{REDACTED}"
            changed = True
    return "&".join(parts) if changed else query


def clean_url(url: str, secrets: frozenset[str] = SECRET_QUERY_PARAMETERS) -> str:
    """``url`` without ``user:password@`` and with secret query values redacted; the
    fragment is dropped (it never reaches a server)."""
    url, _, _ = url.partition("#")
    scheme, sep, rest = url.partition("://")
    if sep:
        authority, path = _split_authority(rest)
        if "@" in authority:
            url = f"{scheme}://{authority.rpartition('@')[2]}{path}"
    base, question, query = url.partition("?")
    if question and query:
        return f"{base}?{redact_query(query, secrets)}"
    return url


def secrets_from(names: Optional[Iterable[str]]) -> frozenset[str]:
    """The secret parameter names an integration was given (None: the defaults)."""
    if names is None:
        return SECRET_QUERY_PARAMETERS
    return frozenset(name.lower().replace("-", "_") for name in names)


def _split_authority(rest: str) -> tuple[str, str]:
    """``host:port`` (with any ``user:password@``) and the path-and-query after it."""
    end = len(rest)
    for char in "/?":
        index = rest.find(char, 0, end)
        if index != -1:
            end = index
    return rest[:end], rest[end:]


def _unquote_name(name: str) -> str:
    if "%" in name or "+" in name:
        from urllib.parse import unquote_plus

        return unquote_plus(name)
    return name
