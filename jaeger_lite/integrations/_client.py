"""The client span of one outgoing HTTP request, shared by every HTTP-client integration:
started as a child of the active span, its context injected into the request's headers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any, Optional, Union

from ..propagation import Format
from ..span import Span, record_error
from ..tracer import Tracer
from ._common import clean_url, failed, secrets_from, tracer_or_global

__all__ = ["ClientConfig", "Switch", "finish_client_span", "inject", "start_client_span"]

#: Set while an instrumented client runs a request, so a library it calls into (requests
#: calls urllib3; urllib3 calls itself on retries) adds no second span for the same call.
IN_CLIENT_CALL: ContextVar[bool] = ContextVar("jaeger_lite_in_client_call", default=False)


class ClientConfig:
    """What ``instrument()`` was told: the tracer, peer service names, URL redaction."""

    __slots__ = ("peer_service", "root_spans", "secrets", "tracer")

    def __init__(
        self,
        tracer: Optional[Tracer] = None,
        peer_service: Union[str, Mapping[str, str], None] = None,
        redact: Optional[Iterable[str]] = None,
        root_spans: bool = False,
    ) -> None:
        if peer_service is not None and not isinstance(peer_service, (str, Mapping)):
            raise TypeError("peer_service must be a name or a mapping of host[:port] to name")
        self.tracer = tracer
        self.peer_service = peer_service
        self.secrets = secrets_from(redact)
        self.root_spans = bool(root_spans)

    def peer_for(self, authority: str) -> Optional[str]:
        """The configured ``peer.service`` of ``host:port`` (looked up as that, then host)."""
        peer = self.peer_service
        if peer is None or isinstance(peer, str):
            return peer
        name = peer.get(authority)
        if name is None:
            name = peer.get(authority.rpartition(":")[0] or authority)
        return name


class Switch:
    """One library's instrumentation: its config while enabled, None when disabled. The
    patched functions read it on every call, so disabling works even where another
    library wrapped our patch and it cannot be taken out."""

    __slots__ = ("config",)

    def __init__(self) -> None:
        self.config: Optional[ClientConfig] = None


def start_client_span(
    config: Optional[ClientConfig], component: str, method: str, url: str
) -> Optional[Span]:
    """A started client span for ``method url``, or None: instrumentation disabled, a
    request inside another instrumented one, no active span (unless ``root_spans``), or
    a tracer that failed (then the request goes out untraced)."""
    if config is None or IN_CLIENT_CALL.get():
        return None
    try:
        tracer = tracer_or_global(config.tracer)
        if not config.root_spans and tracer.active_span is None:
            return None  # nothing to continue: tracing a reporter's or poller's own calls
        method = method.upper() if isinstance(method, str) else str(method)
        url = url if isinstance(url, str) else str(url)
        authority = _authority(url)
        peer = config.peer_for(authority)
        span = tracer.start_span(f"{method} {peer}" if peer else method)
        if span.is_sampled:
            span.set_tag("span.kind", "client")
            span.set_tag("component", component)
            span.set_tag("http.method", method)
            span.set_tag("http.url", clean_url(url, config.secrets))
            if peer:
                span.set_tag("peer.service", peer)
        return span
    except Exception:  # a closed, foreign or broken tracer: the request goes out untraced
        failed("starting a client span")
        return None


def inject(span: Span, carrier: Any) -> None:
    """Write the span's context into the request headers ``carrier``."""
    try:
        span.tracer.inject(span.context, Format.HTTP_HEADERS, carrier)
    except Exception:  # a header object that refuses the value: send it untraced
        failed("injecting the context into the request headers")


def finish_client_span(
    span: Span,
    status: Optional[int],
    error: Optional[BaseException] = None,
    finish_time: Optional[float] = None,
) -> None:
    """Tag the answer's status (5xx is an error) or the exception, and end the span (at
    ``finish_time``, seconds since the epoch, when given)."""
    try:
        if error is not None:
            record_error(span, error, error.__traceback__)
        if status is not None:
            span.set_tag("http.status_code", status)
            if status >= 500:
                span.set_tag("error", True)
        span.finish(finish_time)
    except Exception:  # a reporter's bug: never the application's problem
        failed("finishing a client span")


def _authority(url: str) -> str:
    """``host:port`` of an absolute URL, without ``user:password@``."""
    rest = url.partition("://")[2]
    end = len(rest)
    for char in "/?#":
        index = rest.find(char, 0, end)
        if index != -1:
            end = index
    return rest[:end].rpartition("@")[2]
