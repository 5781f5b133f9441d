"""Forwarding: the development agent relays what it receives, unchanged, to a real agent."""

from __future__ import annotations

import socket
from typing import Any, Callable, Optional

__all__ = ["Forwarder"]


class Forwarder:
    """UDP relays per listener (``{"compact": (host, port), ...}``); a failed relay is
    counted by the caller and reported once through ``say``."""

    def __init__(
        self, targets: dict[str, Optional[tuple[str, int]]], say: Callable[[str], None]
    ) -> None:
        self._targets = {name: target for name, target in targets.items() if target is not None}
        self._say = say
        self._sockets: dict[str, tuple[socket.socket, Any]] = {}
        self._error_reported = False

    def open(self) -> None:
        """Resolve the targets and open a socket for each; raises OSError."""
        for name, (host, port) in self._targets.items():
            family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
            self._sockets[name] = (socket.socket(family, socket.SOCK_DGRAM), address)

    @property
    def active(self) -> bool:
        return bool(self._sockets)

    def relay(self, listener: str, data: bytes) -> Optional[bool]:
        """Send ``data`` on to the target of ``listener``: True when sent, False when it
        failed, None when that listener forwards nowhere."""
        forward = self._sockets.get(listener)
        if forward is None:
            return None
        sock, address = forward
        try:
            sock.sendto(data, address)
        except OSError as exc:  # the real agent is down or unreachable: say so once
            if not self._error_reported:
                self._error_reported = True
                self._say(f"! cannot forward to {address}: {exc} (counted, not repeated)")
            return False
        return True

    def close(self) -> None:
        for sock, _ in self._sockets.values():
            sock.close()
        self._sockets.clear()
