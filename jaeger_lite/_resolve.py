"""Name lookups with a timeout: ``getaddrinfo`` has none, so a hung resolver could hold a
sender's thread (and ``close()``) for as long as it likes.

Each lookup of a name runs on a daemon thread and is waited for only until the caller's
timeout. An IP address needs no thread. One lookup per (host, port, kind) runs at a time:
callers arriving while one hangs wait for it rather than starting another, so a dead
resolver costs one thread, not one per request. It imports nothing of jaeger_lite.
"""

from __future__ import annotations

import errno
import os
import socket
import threading
from typing import Any

__all__ = ["AddrInfo", "resolve"]

AddrInfo = tuple[Any, ...]  # one entry of getaddrinfo's answer: family, type, proto, _, address

_Key = tuple[str, int, int]


class _Lookups:
    """The lookups running now, by (host, port, socket kind)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.running: dict[_Key, tuple[threading.Event, list[Any]]] = {}

    def resolve(self, host: str, port: int, kind: int, timeout: float) -> list[AddrInfo]:
        key = (host, port, kind)
        with self.lock:
            running = self.running.get(key)
            if running is None:
                running = self.running[key] = (threading.Event(), [])
                try:
                    threading.Thread(
                        target=self._look_up,
                        args=(key, *running),
                        name="jaeger_lite-dns",
                        daemon=True,
                    ).start()
                except RuntimeError as exc:  # no thread to be had (thread limit, memory)
                    # Forgotten, or every later lookup of this name would wait for it.
                    del self.running[key]
                    raise OSError(errno.EAGAIN, f"cannot look up {host!r}: {exc}") from exc
        done, answer = running
        if not done.wait(timeout):
            raise socket.timeout(f"name lookup of {host!r} did not finish in time")
        if isinstance(answer[0], BaseException):
            raise answer[0]
        found: list[AddrInfo] = answer[0]
        return found

    def _look_up(self, key: _Key, done: threading.Event, answer: list[Any]) -> None:
        try:
            answer.append(socket.getaddrinfo(key[0], key[1], 0, key[2]))
        except Exception as exc:  # handed to the waiting callers
            answer.append(exc)
        with self.lock:
            del self.running[key]
        done.set()


_LOOKUPS = _Lookups()


def resolve(host: str, port: int, kind: int, timeout: float) -> list[AddrInfo]:
    """``getaddrinfo(host, port, 0, kind)`` within ``timeout`` seconds; raises
    ``socket.timeout`` when the resolver takes longer, ``OSError``/``UnicodeError`` as
    ``getaddrinfo`` does, and ``OSError`` when no thread can be started for the lookup."""
    global _LOOKUPS
    try:
        return socket.getaddrinfo(host, port, 0, kind, 0, socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        pass  # a name: looked up off this thread
    if _LOOKUPS.pid != os.getpid():  # a forked child: the parent's lookup threads are gone
        _LOOKUPS = _Lookups()
    return _LOOKUPS.resolve(host, port, kind, timeout)
