"""Forwarding: the development agent relays what it receives, unchanged, to a real agent
(UDP datagrams) or to an OTLP endpoint (OTLP exports).

Two guards keep a forward from looping. A target that is one of the agent's own UDP
listeners is refused at start (``--forward localhost:6831`` on an agent listening on 6831
sent every datagram to itself, forever). And each datagram relayed is remembered by a
fingerprint: one that comes back (two agents forwarding to each other, or to themselves
through an address the first check cannot know, such as a port mapping) is dropped and
counted rather than decoded and relayed again. The datagrams themselves are never changed.
OTLP exports carry a marker header instead (``otlp_forward``): an agent does not forward
an export another agent forwarded to it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
from collections import OrderedDict
from typing import Any, Callable, Optional, Union

from .otlp_forward import OTLPRelay

__all__ = ["FORWARDED", "FORWARD_ERROR", "FORWARD_LOOP", "Forwarder"]

#: What :meth:`Forwarder.relay` did, named as the agent's counters.
FORWARDED, FORWARD_ERROR, FORWARD_LOOP = "forwarded", "forward_errors", "forward_loops"
#: Fingerprints of relayed datagrams remembered (a loop brings one back within moments).
REMEMBER = 4096


class Forwarder:
    """UDP relays per listener (``{"compact": (host, port), ...}``), and an OTLP relay
    (``{"otlp": url}``) for the OTLP listeners; a failed relay is counted by the caller and
    reported once through ``say``, as is a loop."""

    def __init__(
        self,
        targets: dict[str, Union[tuple[str, int], str, None]],
        say: Callable[[str], None],
    ) -> None:
        self._otlp_url: Optional[str] = None
        self._targets: dict[str, tuple[str, int]] = {}
        for name, target in targets.items():
            if isinstance(target, str):
                self._otlp_url = target
            elif target is not None:
                self._targets[name] = target
        self._say = say
        self._sockets: dict[str, tuple[socket.socket, Any]] = {}
        self._otlp: Optional[OTLPRelay] = None
        self._error_reported = False
        self._loop_reported = False
        self._relayed: OrderedDict[bytes, None] = OrderedDict()

    def open(self, host: str = "", own_ports: Optional[dict[str, Optional[int]]] = None) -> None:
        """Resolve the targets and open a socket for each. Raises OSError, or ValueError
        for a target that is one of this agent's own UDP listeners (``own_ports``: the
        port of each listener, bound on ``host``; only compact and binary are UDP)."""
        for name, (target_host, port) in self._targets.items():
            flag = f"--forward{'' if name == 'compact' else '-' + name} {target_host}:{port}"
            try:
                family, _, _, _, address = socket.getaddrinfo(
                    target_host, port, type=socket.SOCK_DGRAM
                )[0]
            except socket.gaierror as exc:
                raise ValueError(f"{flag}: cannot resolve {target_host!r} ({exc})") from exc
            for listener, own_port in (own_ports or {}).items():
                udp = listener in ("compact", "binary")
                if udp and own_port == port and _same_host(host, str(address[0])):
                    raise ValueError(
                        f"{flag} is this agent's own {listener} listener: every datagram "
                        "would come back to it, forever; forward to the real agent's port"
                    )
            # Connected, as the UDP sender's socket is, so that a real agent that is down
            # shows: an unconnected socket never hears of the ICMP refusal.
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.connect(address)
            except OSError:
                sock.close()
                raise
            self._sockets[name] = (sock, address)
        if self._otlp_url is not None:
            self._otlp = OTLPRelay(self._otlp_url)

    @property
    def active(self) -> bool:
        return bool(self._sockets) or self._otlp is not None

    def relay(self, listener: str, data: bytes) -> Optional[str]:
        """Send ``data`` on to the target of ``listener``: :data:`FORWARDED` when sent,
        :data:`FORWARD_ERROR` when that failed, :data:`FORWARD_LOOP` when it is a datagram
        this agent relayed already (drop it: it went round a loop), None when that
        listener forwards nowhere (or the OTLP export came from another agent's forwarding)."""
        if listener.startswith("otlp/"):
            if self._otlp is None or listener.endswith("/forwarded"):
                return None
            try:
                self._otlp.relay(listener, data)
            except OSError as exc:
                return self._failed(self._otlp.url, exc)
            return FORWARDED
        forward = self._sockets.get(listener)
        if forward is None:
            return None
        fingerprint = hashlib.blake2b(data, digest_size=16).digest()
        if fingerprint in self._relayed:
            if not self._loop_reported:
                self._loop_reported = True
                self._say(
                    "! forwarding loop: a datagram this agent forwarded came back "
                    f"(is {forward[1][0]}:{forward[1][1]} forwarding here?); dropped and "
                    "counted, not repeated"
                )
            return FORWARD_LOOP
        self._relayed[fingerprint] = None
        if len(self._relayed) > REMEMBER:
            self._relayed.popitem(last=False)
        sock, address = forward
        try:
            # A refusal pending from an earlier datagram is read first so that it does
            # not fail this one; the one after send() is this datagram's (on this host
            # the ICMP is back before send() returns). See senders/jaeger_udp.py.
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            sock.send(data)
            refused = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if refused:
                raise OSError(refused, os.strerror(refused))
        except OSError as exc:  # the real agent is down or unreachable: say so once
            return self._failed(address, exc)
        return FORWARDED

    def _failed(self, where: Any, exc: OSError) -> str:
        if not self._error_reported:
            self._error_reported = True
            self._say(f"! cannot forward to {where}: {exc} (counted, not repeated)")
        return FORWARD_ERROR

    def close(self) -> None:
        for sock, _ in self._sockets.values():
            sock.close()
        self._sockets.clear()
        if self._otlp is not None:
            self._otlp.close()


def _same_host(listening: str, target_ip: str) -> bool:
    """Whether a datagram to ``target_ip`` reaches a socket bound on ``listening``: the
    same address, or any address of this machine when it listens on all of them."""
    try:
        target = ipaddress.ip_address(target_ip.partition("%")[0])  # no IPv6 zone
        infos = socket.getaddrinfo(
            listening or None, 0, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE
        )
        bound = {ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos}
    except (OSError, ValueError):
        return False
    if target in bound:
        return True
    if not any(address.is_unspecified for address in bound):
        return False
    # Listening on every address: is the target one of this machine's? It is if a socket
    # can be bound to it.
    family = socket.AF_INET6 if target.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((str(target), 0))
        except OSError:
            return False
    return True
