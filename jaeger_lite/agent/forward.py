"""Forwarding: the development agent relays what it receives, unchanged, to a real agent
(UDP datagrams) or to an OTLP endpoint (OTLP exports)."""

from __future__ import annotations

import socket
from typing import Any, Callable, Optional, Union

from .otlp_forward import OTLPRelay

__all__ = ["Forwarder"]


class Forwarder:
    """UDP relays per listener (``{"compact": (host, port), ...}``), and an OTLP relay
    (``{"otlp": url}``) for the OTLP listeners; a failed relay is counted by the caller and
    reported once through ``say``."""

    def __init__(
        self,
        targets: dict[str, Union[tuple[str, int], str, None]],
        say: Callable[[str], None],
    ) -> None:
        self._targets = {name: target for name, target in targets.items() if target is not None}
        self._say = say
        self._sockets: dict[str, tuple[socket.socket, Any]] = {}
        self._otlp: Optional[OTLPRelay] = None
        self._error_reported = False

    def open(self) -> None:
        """Resolve the targets and open a socket for each; raises OSError."""
        for name, target in self._targets.items():
            if isinstance(target, str):
                self._otlp = OTLPRelay(target)
                continue
            host, port = target
            family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
            self._sockets[name] = (socket.socket(family, socket.SOCK_DGRAM), address)

    @property
    def active(self) -> bool:
        return bool(self._sockets) or self._otlp is not None

    def relay(self, listener: str, data: bytes) -> Optional[bool]:
        """Send ``data`` on to the target of ``listener``: True when sent, False when it
        failed, None when that listener forwards nowhere (or the OTLP export came from
        another agent's forwarding)."""
        if listener.startswith("otlp/"):
            if self._otlp is None or listener.endswith("/forwarded"):
                return None
            try:
                self._otlp.relay(listener, data)
            except OSError as exc:
                return self._failed(self._otlp.url, exc)
            return True
        forward = self._sockets.get(listener)
        if forward is None:
            return None
        sock, address = forward
        try:
            sock.sendto(data, address)
        except OSError as exc:  # the real agent is down or unreachable: say so once
            return self._failed(address, exc)
        return True

    def _failed(self, where: Any, exc: OSError) -> bool:
        if not self._error_reported:
            self._error_reported = True
            self._say(f"! cannot forward to {where}: {exc} (counted, not repeated)")
        return False

    def close(self) -> None:
        for sock, _ in self._sockets.values():
            sock.close()
        self._sockets.clear()
        if self._otlp is not None:
            self._otlp.close()
