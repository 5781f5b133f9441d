"""The fork and exit hooks of jaeger_lite, in one place (but the id reseed: ``_ids``).

In a forked child (``os.register_at_fork``, and ``uwsgi.post_fork_hook`` inside uWSGI,
which forks in C: ``_ids.at_fork_in_child``): locks that sit on the path of every new trace
are replaced (one held by another thread at the moment of fork would stay locked forever),
reporters start empty with their own worker, sender and stats, and sampling pollers start
a thread of their own. Span ids are reseeded by ``_ids``'s own fork hook (so prefork
workers never draw their parent's ids), as that module can load without this one.

At exit, reporters drain within one budget of :data:`EXIT_TIMEOUT` seconds in all: first
when threading shuts down (multiprocessing's forked children end with ``os._exit()``,
skipping atexit, but they do run threading's shutdown hooks; so does every normal exit,
before atexit), then at atexit, which closes them.

Objects register themselves here; this module imports nothing above the core, so every
layer may use it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import time
import weakref
from typing import Any, Optional, Protocol

from ._ids import at_fork_in_child
from ._log import LOG as _log

__all__ = [
    "EXIT_TIMEOUT",
    "exit_remaining",
    "fork_safe_lock",
    "green_since",
    "own_thread_signals",
    "track_poller",
    "track_reporter",
    "track_tracer",
    "untrack_poller",
    "untrack_reporter",
]


#: Seconds the interpreter-exit drain may take, for all reporters together.
EXIT_TIMEOUT = 2.0


class _Drained(Protocol):
    """What a reporter offers the hooks (RemoteReporter)."""

    def _after_fork(self) -> None: ...

    def _flush_at_exit(self, timeout: float) -> bool: ...

    def close(self, timeout: Optional[float] = None) -> None: ...


class _Polling(Protocol):
    """What a sampler with a background poller offers the hooks (RemoteSampler)."""

    def _after_fork_in_child(self) -> None: ...


_lock_owners: weakref.WeakSet[Any] = weakref.WeakSet()
_reporters: weakref.WeakSet[Any] = weakref.WeakSet()
_pollers: weakref.WeakSet[Any] = weakref.WeakSet()
_tracers: weakref.WeakSet[Any] = weakref.WeakSet()
_exit_deadline: Optional[float] = None  # shared by the two exit hooks


def fork_safe_lock(owner: Any) -> threading.Lock:
    """A lock stored as ``owner._lock``, replaced by a fresh one in every forked child."""
    _lock_owners.add(owner)
    return threading.Lock()


def green_since(made_with: Any) -> bool:
    """True when gevent or eventlet patched ``threading`` after locks were made while
    ``threading.Lock`` was ``made_with``: gunicorn ``--preload -k gevent`` loads the app,
    and runs the fork hooks, before the worker patches. Such locks and Events are the
    OS's: a greenlet waiting on one blocks every greenlet of the process, and one held
    across a greenlet switch (a thread's start) deadlocks the next greenlet to take it."""
    return threading.Lock is not made_with


#: Signals sent to a process to stop or reload it: never handled on jaeger_lite's threads.
_STOP_SIGNALS = {
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM")
    if hasattr(signal, name)
}


def own_thread_signals() -> None:
    """Called first on jaeger_lite's own threads: block the signals that stop or reload a
    process, so that the kernel hands them to a thread that handles them. Python runs its
    handlers on the main thread anyway, but a C handler runs on whichever thread gets the
    signal: uWSGI's SIGINT handler, run on the reporter's thread, exits the worker from
    there (its atexit drain then cannot join that thread) and the spans queued are lost.
    Linux only, and never on the main thread (a gevent or eventlet greenlet runs there)."""
    if not sys.platform.startswith("linux") or threading.get_native_id() == os.getpid():
        return
    with contextlib.suppress(OSError, ValueError, AttributeError):  # never stop the thread
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)


def track_reporter(reporter: _Drained) -> None:
    """Restart ``reporter`` in forked children and drain it at exit (until untracked)."""
    _reporters.add(reporter)


def untrack_reporter(reporter: _Drained) -> None:
    _reporters.discard(reporter)


def track_tracer(tracer: Any) -> None:
    """Have ``tracer`` count from zero in forked children, as its reporter does."""
    _tracers.add(tracer)


def track_poller(sampler: _Polling) -> None:
    """Give ``sampler`` a poller thread of its own in forked children (until untracked)."""
    _pollers.add(sampler)


def untrack_poller(sampler: _Polling) -> None:
    _pollers.discard(sampler)


def exit_remaining() -> float:
    """Seconds left of the EXIT_TIMEOUT budget, which starts with the first exit hook."""
    global _exit_deadline
    if _exit_deadline is None:
        _exit_deadline = time.monotonic() + EXIT_TIMEOUT
    return max(0.0, _exit_deadline - time.monotonic())


def _after_fork_in_child() -> None:
    global _exit_deadline
    _exit_deadline = None
    for owner in list(_lock_owners):
        owner._lock = threading.Lock()
    for reporter in list(_reporters):
        reporter._after_fork()
    for tracer in list(_tracers):
        tracer._after_fork()
    for sampler in list(_pollers):
        try:
            sampler._after_fork_in_child()
        except Exception:  # never break the application's fork for tracing
            _log.debug("restarting the sampling poller failed", exc_info=True)


def _flush_all_at_thread_exit() -> None:
    global _exit_deadline
    flushed = True
    for reporter in list(_reporters):  # every one, even after one timed out
        flushed = reporter._flush_at_exit(exit_remaining()) and flushed
    if flushed:
        # Non-daemon threads may run on for long before atexit: a budget not spent on a
        # stuck sender is whole again for the atexit drain of what they report.
        _exit_deadline = None


def _close_all_at_exit() -> None:
    for reporter in list(_reporters):
        reporter.close(exit_remaining())


at_fork_in_child(_after_fork_in_child)
atexit.register(_close_all_at_exit)
_register_thread_exit = getattr(threading, "_register_atexit", None)  # CPython 3.9+
if _register_thread_exit is not None:
    # RuntimeError: imported while the interpreter shuts down; atexit alone drains then.
    with contextlib.suppress(RuntimeError):
        _register_thread_exit(_flush_all_at_thread_exit)
