"""RemoteReporter's locks and its worker's Event (a mixin): made per process, made again
once gevent or eventlet patched ``threading`` (gunicorn ``--preload -k gevent`` makes them
before the worker patches), and how ``close()`` and ``flush()`` tell that this thread is
already inside the reporter (a signal handler, a sender calling back), where waiting for
the worker would wait for ever.
"""

from __future__ import annotations

import sys
import threading
from types import FrameType
from typing import Any, Optional

from .._lifecycle import green_since

__all__ = ["Synchronization"]

_OWN_CODE: dict[type, frozenset[Any]] = {}  # the code of _HOLDING, by reporter class
#: The methods that may hold the turn or send lock while this thread could be interrupted
#: (or call a sender), and the worker's loop: close() and flush() below them cannot wait.
_HOLDING = (
    "_run", "_turn", "_encode_turn", "_send_turn", "_flush_here", "_drain",
    "_drain_batches", "_take_chunks", "_encode_rest", "_send", "flush",
)  # fmt: skip


class Synchronization:
    """The locks and the Event of RemoteReporter."""

    __slots__ = (
        "_flush_lock", "_lock", "_made_with", "_room_lock", "_send_lock", "_turn_lock", "_wake",
    )  # fmt: skip

    _made_with: Any  # threading.Lock when they were made
    _lock: threading.RLock
    _flush_lock: threading.RLock
    _turn_lock: threading.Lock
    _send_lock: threading.Lock
    _room_lock: threading.RLock
    _wake: threading.Event
    _worker: Optional[threading.Thread]

    def _make_sync(self) -> None:
        """The locks and the worker's Event, made with what ``threading`` makes now."""
        self._made_with = threading.Lock
        # Reentrant, these three: a signal handler calling close() may interrupt this
        # thread while it holds one (their holders only read and set attributes).
        self._lock = threading.RLock()  # guards starting and stopping the worker
        self._flush_lock = threading.RLock()  # guards _flushes (worker and close())
        # Held by whoever encodes (a reporting thread's turn, or the worker): the sender's
        # encoder is used by one thread at a time, and chunks join _encoded in queue order.
        self._turn_lock = threading.Lock()
        # Held by whoever cuts batches and sends them (_out, _handed, _limit): the worker
        # for its whole drain, a turn with inline_send when it finds it free.
        self._send_lock = threading.Lock()
        self._room_lock = threading.RLock()  # guards computing the inbox's room
        self._wake = threading.Event()

    def _green_check(self) -> None:
        """gevent or eventlet patched threading since the locks were made (gunicorn
        ``--preload -k gevent``): make them again, cooperative, while no worker uses them."""
        if self._worker is None and green_since(self._made_with):
            self._make_sync()

    def _reentered(self) -> bool:
        """True when this thread is inside this reporter's own code further up its stack:
        a signal handler that interrupted a turn or a flush, or a sender calling back on
        the worker. It may hold a lock the worker needs (the turn lock, the send
        lock), so waiting for the worker would wait for ever. Never called per span."""
        codes = _OWN_CODE.get(type(self))
        if codes is None:  # jaeger_lite's own methods (not a subclass's), by name
            codes = _OWN_CODE[type(self)] = frozenset(
                vars(klass)[name].__code__
                for klass in type(self).__mro__
                if klass.__module__.startswith("jaeger_lite.")
                for name in _HOLDING
                if hasattr(vars(klass).get(name), "__code__")
            )
        frame: Optional[FrameType] = sys._getframe(2)  # above this call and its caller
        while frame is not None:
            if frame.f_code in codes and frame.f_locals.get("self") is self:
                return True
            frame = frame.f_back
        return False
