"""``RemoteSampler``: follows the sampling strategy the Jaeger agent (or collector) serves.

A daemon thread polls ``GET <sampling_endpoint>?service=<name>`` with the standard library
and swaps the delegate sampler by attribute assignment (or updates it in place), so
``is_sampled`` never waits for the network. Any error or unusable answer keeps
the current sampler. The answers it understands: docs/protocol.md#sampling-strategies.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from typing import Callable, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit

from .._http import HTTPClient
from .._lifecycle import green_since, own_thread_signals, track_poller, untrack_poller
from .._metrics import Counter
from .._proxy import proxy_for
from .._version import USER_AGENT
from .base import Sampler, SamplingDecision, as_sampler
from .local import ProbabilisticSampler, RateLimitingSampler
from .per_operation import PerOperationSampler
from .strategy import SamplingStrategy, parse_strategy

__all__ = ["DEFAULT_SAMPLING_ENDPOINT", "RemoteSampler"]

_log = logging.getLogger("jaeger_lite")

DEFAULT_SAMPLING_ENDPOINT = "http://127.0.0.1:5778/sampling"

#: Larger answers are refused: thousands of operations fit in far less.
_MAX_BODY = 4 << 20


class RemoteSampler(Sampler):
    """Samples with the strategy configured in Jaeger for ``service_name``.

    Starts with ``initial`` (default ``ProbabilisticSampler(0.001)``, as jaeger-client-go)
    and polls ``sampling_endpoint`` on a daemon thread, started by the first sampling
    decision (no thread before the first trace): at once, then every ``refresh_interval``
    seconds, each request bounded by ``timeout``. That first decision waits up to
    ``first_poll_wait`` seconds for the first answer, so the first traces of a process
    follow the served strategy rather than ``initial`` (a refused connection ends the wait
    at once; later decisions never wait). Go waits a whole interval before its first poll,
    which leaves a short program on the initial 0.1%: it records nothing.
    A network error, non-200 status, bad JSON or an invalid strategy keeps the current
    sampler; :meth:`metrics` counts each outcome. A strategy of the current sampler's kind
    updates it in place, so rate limiters keep their credit across refreshes. After
    ``os.fork()`` the child starts its own poller (the parent's is unaffected).
    :meth:`close` stops the poller without waiting an interval.
    Plain ``http``/``https`` without redirects, through the proxy that ``HTTP_PROXY``,
    ``HTTPS_PROXY`` and ``NO_PROXY`` name when the sampler is made (never for localhost
    and loopback addresses, where a sidecar agent is; see the README's "Proxies").
    """

    def __init__(
        self,
        service_name: str,
        *,
        sampling_endpoint: str = DEFAULT_SAMPLING_ENDPOINT,
        initial: Optional[Sampler] = None,
        refresh_interval: float = 60.0,
        max_operations: int = 2000,
        timeout: float = 10.0,
        first_poll_wait: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(service_name, str) or not service_name.strip():
            raise ValueError("service_name must be a non-empty string")
        parts = urlsplit(str(sampling_endpoint))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"sampling_endpoint must be an http(s) URL, got {sampling_endpoint!r}")
        for name, value in (("refresh_interval", refresh_interval), ("timeout", timeout)):
            if not (float(value) > 0.0 and math.isfinite(float(value))):
                raise ValueError(f"{name} must be a finite number of seconds > 0, got {value!r}")
        if int(max_operations) < 1:
            raise ValueError(f"max_operations must be >= 1, got {max_operations!r}")
        if not (float(first_poll_wait) >= 0.0 and math.isfinite(float(first_poll_wait))):
            raise ValueError(f"first_poll_wait must be >= 0 seconds, got {first_poll_wait!r}")
        self.first_poll_wait = float(first_poll_wait)
        self.service_name = service_name
        self.sampling_endpoint = str(sampling_endpoint)
        self.refresh_interval = float(refresh_interval)
        self.max_operations = int(max_operations)
        self.timeout = float(timeout)
        self._delegate: Sampler = (
            as_sampler(initial) if initial is not None else ProbabilisticSampler(0.001)
        )
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._proxy = proxy_for(self._origin)  # the environment as it is now, as the senders
        # Exactly one `service` parameter, or the agent answers 400.
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        query = [(k, v) for k, v in query if k != "service"] + [("service", service_name)]
        self._target = (parts.path or "/") + "?" + urlencode(query)
        self._clock = clock
        self._strategy: Optional[SamplingStrategy] = None
        self._closed = False
        self._failing = False
        self._ok, self._failed, self._invalid, self._updates = (Counter() for _ in range(4))
        self._poll_count = 0
        self._thread: Optional[threading.Thread] = None
        self._init_sync()
        track_poller(self)
        self._await_first_decision()

    def _init_sync(self) -> None:
        self._made_with = threading.Lock
        self._stop = threading.Event()
        self._apply_lock = threading.Lock()  # serializes refresh() with the poller
        self._start_lock = threading.Lock()  # the poller starts once
        self._polled = threading.Condition()  # notified after every poll (tests wait on it)
        self._first_poll = threading.Event()  # set once a poll has ended, however it ended

    def _await_first_decision(self) -> None:
        # The first is_sampled call goes to _first_decision: this instance attribute
        # shadows the method until that call removes it, so every later decision is the
        # plain method again (one delegate call: nothing is checked per trace).
        self.is_sampled = self._first_decision  # type: ignore[method-assign]

    def _first_decision(self, trace_id: int, operation_name: str = "") -> SamplingDecision:
        """The first sampling decision: start the poller and give its first answer up to
        ``first_poll_wait`` seconds to arrive, then decide as every later call does."""
        self.start()
        self._first_poll.wait(self.first_poll_wait)
        self.__dict__.pop("is_sampled", None)
        return self._delegate.is_sampled(trace_id, operation_name)

    @property
    def sampler(self) -> Sampler:
        """The sampler currently in use."""
        return self._delegate

    def is_sampled(self, trace_id: int, operation_name: str = "") -> SamplingDecision:
        return self._delegate.is_sampled(trace_id, operation_name)

    def metrics(self) -> dict[str, int]:
        """Poll outcomes: valid answers, failed requests, unusable answers, changes."""
        return {
            "sampler_polls_ok": self._ok.value,
            "sampler_polls_failed": self._failed.value,
            "sampler_polls_invalid": self._invalid.value,
            "sampler_updates": self._updates.value,
        }

    # -- polling ------------------------------------------------------------------------

    def start(self) -> None:
        """Start polling now rather than at the first sampling decision. Idempotent."""
        if self._thread is None and green_since(self._made_with):
            # gevent or eventlet patched threading since: wait on cooperative objects
            answered = self._first_poll.is_set()
            self._init_sync()
            if answered:
                self._first_poll.set()
        with self._start_lock:
            if self._thread is None and not self._closed:
                self._start()

    def _start(self) -> None:
        thread = threading.Thread(
            target=_poll_loop,
            args=(weakref.ref(self), self._stop, self.refresh_interval),
            name="jaeger_lite-sampler",
            daemon=True,
        )
        try:
            thread.start()
        except RuntimeError:  # e.g. at interpreter shutdown: stay on the current sampler
            _log.warning("cannot start the sampling poller", exc_info=True)
            self._first_poll.set()  # no answer is coming: the first decision need not wait
            return
        self._thread = thread
        # A sampler dropped without close() wakes its thread, which then finds it gone.
        weakref.finalize(self, self._stop.set)

    def refresh(self) -> bool:
        """Fetch and apply the strategy now, on the calling thread (the poller does this
        every ``refresh_interval``). True when a valid strategy was received. Never raises."""
        try:
            return self._poll()
        finally:
            self._first_poll.set()
            with self._polled:
                self._poll_count += 1
                self._polled.notify_all()

    def _poll(self) -> bool:
        try:
            body = self._fetch()
        except Exception as exc:  # network, timeout, HTTP status, TLS: keep the sampler
            self._failed.inc()
            return self._note_failure("cannot fetch the sampling strategy", exc)
        try:
            strategy = parse_strategy(body)
        except ValueError as exc:  # bad JSON, shape, type or range: the answer is unusable
            self._invalid.inc()
            return self._note_failure("unusable sampling strategy", exc)
        self._ok.inc()
        if self._failing:
            self._failing = False
            _log.info("sampling strategy fetched from %s", self.sampling_endpoint)
        try:
            self._apply(strategy)
        except Exception:  # a bug here must not kill the poller or reach the application
            _log.warning("applying %r failed", strategy, exc_info=True)
            return False
        return True

    def _fetch(self) -> bytes:
        # A client per poll (refresh() may run beside the poller), each poll bounded by
        # ``timeout`` for all of it, however slowly the agent answers.
        client = HTTPClient(self._origin, timeout=self.timeout, proxy=self._proxy)
        try:
            response = client.request(
                "GET",
                self._target,
                headers={"Accept": "application/json", "User-Agent": USER_AGENT},
                max_body=_MAX_BODY,
            )
        finally:
            client.close()  # a poll a minute: not worth a connection kept open
        if response.status != 200:
            raise _FetchError(f"HTTP {response.status} {response.reason}".rstrip())
        return response.body

    def _note_failure(self, what: str, exc: Exception) -> bool:
        # Once per failure streak at WARNING (an agent that is down would otherwise log
        # every minute); the rest at DEBUG.
        level = logging.DEBUG if self._failing else logging.WARNING
        self._failing = True
        _log.log(
            level,
            "%s from %s for service %r (%s: %s); keeping %r",
            what,
            self.sampling_endpoint,
            self.service_name,
            type(exc).__name__,
            exc,
            self._delegate,
        )
        return False

    def _apply(self, strategy: SamplingStrategy) -> None:
        with self._apply_lock:
            if self._closed or strategy == self._strategy:
                return
            current = self._delegate
            if strategy.kind == "probabilistic":
                if not (
                    isinstance(current, ProbabilisticSampler) and current.rate == strategy.param
                ):
                    self._delegate = ProbabilisticSampler(strategy.param)
            elif strategy.kind == "ratelimiting":
                if isinstance(current, RateLimitingSampler):
                    current.update(strategy.param)  # keeps the bucket's credit, as Go does
                else:
                    self._delegate = RateLimitingSampler(strategy.param, clock=self._clock)
            elif isinstance(current, PerOperationSampler):
                current.update(strategy.param, strategy.lower_bound, dict(strategy.operations))
            else:
                self._delegate = PerOperationSampler(
                    strategy.param,
                    strategy.lower_bound,
                    dict(strategy.operations),
                    max_operations=self.max_operations,
                    clock=self._clock,
                )
            self._strategy = strategy
            self._updates.inc()
            _log.debug("sampling strategy is now %r", strategy)

    def _wait_for_polls(self, count: int, timeout: float) -> bool:
        """Wait until at least ``count`` polls have completed (for tests)."""
        with self._polled:
            return self._polled.wait_for(lambda: self._poll_count >= count, timeout)

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Stop polling (without waiting out the interval) and close the current sampler.

        Waits at most a second for a request in flight; the daemon thread then ends on its
        own and its answer is discarded. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._first_poll.set()
        untrack_poller(self)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)
        try:
            self._delegate.close()
        except Exception:  # a user-supplied initial sampler's bug stays contained
            _log.debug("closing %r failed", self._delegate, exc_info=True)

    def _after_fork_in_child(self) -> None:
        # The parent's thread does not exist here and its locks may be held by it. The
        # child polls from its own first decision; it need not wait when the parent had
        # a strategy already (the child inherited it).
        self._init_sync()
        self._thread = None
        if self._strategy is not None:
            self._first_poll.set()
        self._await_first_decision()

    def __repr__(self) -> str:
        return f"RemoteSampler({self.service_name!r}, sampler={self._delegate!r})"


class _FetchError(Exception):
    """The agent answered, but not with a strategy (status, size)."""


def _poll_loop(ref: weakref.ref[RemoteSampler], stop: threading.Event, interval: float) -> None:
    # Holds the sampler only weakly between polls: a sampler dropped without close() is
    # collected and its thread ends.
    own_thread_signals()
    while not stop.is_set():
        sampler = ref()
        if sampler is None:
            return
        try:
            sampler.refresh()
        except Exception:  # refresh() does not raise; this keeps the thread alive if it did
            _log.debug("sampling poll failed", exc_info=True)
        del sampler
        if stop.wait(interval):
            return
