"""A guard that keeps the suite off real ports: every socket connect, sendto/sendmsg, bind
and http.client connection made in the test process is checked by an audit hook.

Allowed: loopback (or this host's unspecified address) on any port but the well-known
tracing ones, which a developer's own Jaeger agent, collector, query UI, OTLP receiver or
Zipkin may be listening on. Ports from ``bind(("127.0.0.1", 0))`` come from the kernel's
ephemeral range, which starts far above all of them (tests/test_port_guard.py checks that),
so tests on ports they opened themselves are never caught. A forbidden call is blocked (it
raises ``ForbiddenAddress``, an ``OSError``, so the library counts it like any network
failure) and recorded, on whatever thread it ran; conftest.py fails the test that made it.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

#: Jaeger agent (compact, binary), collector HTTP, agent sampling/config, OTLP gRPC and
#: HTTP, Jaeger query UI, Zipkin.
WELL_KNOWN_PORTS = frozenset({6831, 6832, 14268, 5778, 4317, 4318, 16686, 9411})

#: RFC 5737 / RFC 3849 documentation ranges: never routed. A UDP connect() only picks a
#: route (no packet leaves), which is how the library finds its own IP (thrift_batch.local_ip);
#: jaeger-client (a peer some tests run in-process) probes 10.255.255.255 the same way.
_DOCUMENTATION = tuple(
    ipaddress.ip_network(net)
    for net in (
        "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "10.255.255.255/32"
    )
)  # fmt: skip

_EVENTS = frozenset(
    {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.bind", "http.client.connect"}
)


class ForbiddenAddress(OSError):
    """A test tried to reach an address it does not own."""


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return False  # any other name needs DNS and may be anywhere
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _is_documentation(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in net for net in _DOCUMENTATION)


def why_forbidden(event: str, host: Any, port: Any, udp: bool = False) -> Optional[str]:
    """The reason a call to ``(host, port)`` is forbidden, or None when it is allowed."""
    if not isinstance(host, str) or not isinstance(port, int):
        return None  # not an IP address (AF_UNIX, netlink, ...)
    if port in WELL_KNOWN_PORTS:
        return f"port {port} is a well-known tracing port"
    if event == "socket.bind":
        return None  # binding any other port (0, or an interface address) sends nothing
    if _is_local(host):
        return None
    if udp and event == "socket.connect" and _is_documentation(host):
        return None
    return f"{host!r} is not loopback"


class PortGuard:
    """The audit hook's state: violations recorded since the last ``take()``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._violations: list[str] = []
        self.installed = False

    def install(self) -> None:
        """Add the audit hook (once per process: audit hooks cannot be removed)."""
        if not self.installed:
            sys.addaudithook(self._hook)
            self.installed = True

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in _EVENTS:  # the fast exit: every audit event in the process comes here
            return
        if event == "http.client.connect":
            _, host, port = args
            udp = False
        else:
            sock, address = args[0], args[1]
            if not isinstance(address, tuple) or len(address) < 2:
                return
            host, port = address[0], address[1]
            udp = getattr(sock, "type", None) == socket.SOCK_DGRAM
        reason = why_forbidden(event, host, port, udp)
        if reason is None:
            return
        where = "".join(traceback.format_list(traceback.extract_stack(limit=8)[:-1]))
        message = (
            f"{event} to {host}:{port} on thread {threading.current_thread().name!r}: "
            f"{reason}\n{where}"
        )
        with self._lock:
            self._violations.append(message)
        raise ForbiddenAddress(f"tests must not reach {host}:{port} ({reason})")

    def take(self) -> list[str]:
        """The violations recorded so far, forgotten once taken."""
        with self._lock:
            taken, self._violations = self._violations, []
        return taken

    @contextmanager
    def expecting(self) -> Iterator[list[str]]:
        """Collect the violations of a block instead of failing the test (for the guard's
        own tests); the list is filled when the block ends."""
        earlier = self.take()
        caught: list[str] = []
        try:
            yield caught
        finally:
            caught.extend(self.take())
            with self._lock:
                self._violations[:0] = earlier


GUARD = PortGuard()
