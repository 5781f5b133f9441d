"""The tracer's lifecycle half: its counters, ``flush`` and ``close`` (a mixin of
:class:`~jaeger_lite.Tracer`, as ``CodecRegistry`` is its propagation half)."""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Optional, cast

from ._log import LOG as _log
from ._metrics import Counter
from ._span_factory import SpanOwner
from .reporting.base import Reporter
from .sampling.base import Sampler
from .scope import ScopeManager

if TYPE_CHECKING:
    from ._closed_future import ClosedFuture
    from .tracer import Tracer

__all__ = ["TracerLifecycle"]


class TracerLifecycle:
    """``metrics``, ``flush``, ``close`` and the context manager; jaeger-client's read-only
    ``max_tag_value_length`` and ``max_traceback_length``."""

    _owner: SpanOwner
    _started: Counter
    _sampler_errors: Counter
    _baggage_dropped: Counter
    _propagation_errors: Counter
    _scope_manager: ScopeManager
    _sampler: Sampler
    _reporter: Reporter
    _close_lock: threading.RLock
    _closed: bool
    _fork_base: dict[str, int]

    @property
    def metrics(self) -> dict[str, int]:
        """A snapshot of the counters (see README, "Metrics"), reporter's included."""
        base = self._fork_base
        snapshot = {name: value - base.get(name, 0) for name, value in self._counts().items()}
        manager: Any = self._scope_manager
        snapshot["scopes_leaked"] = (
            manager.leaked_scopes() if isinstance(manager, ScopeManager) else 0
        )
        for source in (self._sampler, self._reporter):
            try:
                snapshot.update(source.metrics())
            except Exception:  # a user sampler's or reporter's bug must not reach the caller
                _log.debug("metrics of %r failed", source, exc_info=True)
        return snapshot

    def _counts(self) -> dict[str, int]:
        """The tracer's own counters, as counted since it was made (in this process tree)."""
        owner = self._owner
        sampled = owner.finished_sampled.value
        unsampled = owner.finished_unsampled.value
        return {
            "spans_started": self._started.value,
            "spans_finished": sampled + unsampled,
            "spans_sampled": sampled,
            "spans_reporter_errors": owner.report_errors.value,
            "span_logs_dropped": owner.logs_dropped.value,
            "sampler_errors": self._sampler_errors.value,
            "baggage_dropped": self._baggage_dropped.value,
            "propagation_errors": self._propagation_errors.value,
        }

    def _after_fork(self) -> None:
        """In a forked child: count from zero, as the reporter does, so that the child's
        spans_sampled is the child's spans and the identity holds in every process."""
        self._fork_base = self._counts()

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until spans finished so far are handed to the transport; False on timeout."""
        try:
            return bool(self._reporter.flush(timeout))
        except Exception:  # a user reporter's bug must not reach the application
            _log.debug("reporter flush failed", exc_info=True)
            return False

    def close(self, timeout: Optional[float] = None) -> ClosedFuture:
        """Flush and stop the reporter and sampler: the reporter waits at most ``timeout``
        seconds (None: as long as sending takes), the sampler's poller at most a second.
        Idempotent; a call made while another thread is closing returns once that close
        has finished, one from a signal handler that interrupted a close at once. Returns a
        Future that is already done, for code written for jaeger-client
        (``yield``/``await tracer.close()``, ``add_done_callback``)."""
        with self._close_lock:
            if not self._closed:
                for stop in (self._sampler.close, lambda: self._reporter.close(timeout)):
                    try:
                        stop()
                    except Exception:  # a user sampler or reporter failing to close
                        _log.debug("error while closing the tracer", exc_info=True)
                self._closed = True
        # Imported after the work, and never raising: a process out of file descriptors
        # (EMFILE reading the module) or shutting down cannot import, and still closes.
        try:
            from ._closed_future import ClosedFuture
        except (ImportError, OSError):
            return cast("ClosedFuture", _Done())
        return ClosedFuture()

    @property
    def max_tag_value_length(self) -> int:
        return self._owner.max_tag_value_length

    @property
    def max_traceback_length(self) -> int:
        return self._owner.max_traceback_length

    def __enter__(self) -> Tracer:
        return cast("Tracer", self)

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Done:
    """What close() returns when ClosedFuture cannot be imported: a done Future's answers."""

    def done(self) -> bool:
        return True

    def cancelled(self) -> bool:
        return False

    def running(self) -> bool:
        return False

    def result(self, timeout: Optional[float] = None) -> None:
        return None

    def exception(self, timeout: Optional[float] = None) -> None:
        return None

    def add_done_callback(self, fn: Any) -> None:
        fn(self)

    def __await__(self) -> Generator[None, None, None]:
        yield from ()
