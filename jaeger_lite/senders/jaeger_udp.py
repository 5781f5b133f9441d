"""``UDPSender``: compact-Thrift ``emitBatch`` datagrams to a Jaeger agent (port 6831;
docs/protocol.md#agent-over-udp).

Driven by one thread at a time: the reporter's worker, or an application thread taking
a turn (``try_send``: a datagram only when it goes without waiting). Network trouble is
counted (see :meth:`~jaeger_lite.senders.base.Sender.metrics`) and logged at most once a
minute, never raised.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import socket
import time
from collections.abc import Iterable, Sequence
from typing import Any, Optional

from .._encoding.thrift_batch import (
    EMIT_BATCH_OVERHEAD,
    CompactEncoder,
    compact_process,
    emit_batch,
    process_tags,
)
from .._resolve import resolve
from .._safe import plural
from ..span import Span
from .base import Sender

__all__ = ["UDPSender"]

_log = logging.getLogger("jaeger_lite")

_RESOLVE_RETRY = 30.0  # seconds between attempts to resolve an agent host that failed
#: Seconds the worker waits for the agent's name to resolve (glibc retries a silent DNS
#: server for 10 s by default); a slower lookup counts as "does not resolve" this time.
_LOOKUP_TIMEOUT = 2.0
#: Seconds the worker waits for room in a full socket send buffer before it counts the
#: datagram as failed (an application thread never waits: see try_send).
_SEND_WAIT = 1.0


class UDPSender(Sender):
    """Sends compact ``emitBatch`` datagrams to a Jaeger agent (default localhost:6831).

    Spans are packed into as few datagrams as fit in ``max_packet_size`` bytes; no datagram
    is ever larger. A span that cannot fit on its own (with the Process) is dropped and
    counted as too large; the others still go. Every datagram carries ``seqNo`` (1, 2, ...)
    and the cumulative ClientStats. ``host`` may be a name, an IPv4 or an IPv6 address
    (bare or in brackets); names prefer IPv4, as ``localhost`` agents usually listen there.

    macOS limits a UDP datagram to 9216 bytes by default (``sysctl net.inet.udp.maxdgram``):
    use ``max_packet_size=9216`` there, or raise the limit. Agents accept 65000 at most.
    A host name is looked up again every ``resolve_interval`` seconds (None: never) and
    the socket reconnected if the agent moved, as jaeger-client-go does.
    """

    #: encode_spans may run on the reporting thread (its encoder is used by one thread at a
    #: time, and the Process is built with an encoder of its own).
    inline_encode = True

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6831,
        max_packet_size: int = 65000,
        *,
        accelerated: Optional[bool] = None,
        resolve_interval: Optional[float] = 30.0,
    ) -> None:
        if not 0 < port < 65536:
            raise ValueError(f"port must be 1-65535, got {port!r}")
        if not 1024 <= max_packet_size <= 65507:
            raise ValueError(f"max_packet_size must be 1024-65507, got {max_packet_size!r}")
        self.host = host
        self.port = port
        self.max_packet_size = max_packet_size
        self._encoder = CompactEncoder(accelerated)
        self._sock: Optional[socket.socket] = None
        self._last = (0, 0)  # spans and bytes of the last datagram counted as sent
        self._resolve_after = 0.0
        # Follow an agent whose address changes (a rescheduled pod), as jaeger-client-go
        # does; an IP literal never changes, so it is never looked up again.
        self.resolve_interval = None if _is_ip_literal(host) else resolve_interval
        self._next_resolve = 0.0
        super().__init__()

    def after_fork(self) -> None:
        self._last = (0, 0)
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()  # our copy of the descriptor only; the parent's stays open
        self._encoder = CompactEncoder(self._encoder.accelerated)  # fork may be mid-encode
        super().after_fork()

    def encode(self, span: Span) -> bytes:
        """One finished span as a compact ``Span`` struct."""
        return self._encoder.span(span)

    def encode_spans(self, spans: Iterable[Span]) -> list[bytes]:
        """Finished spans as compact ``Span`` structs, in one call (cheaper per span)."""
        return self._encoder.spans(spans)

    @property
    def batch_bytes(self) -> int:  # type: ignore[override]  # follows max_packet_size
        """Encoded span bytes that fit in one datagram next to the Process and envelope."""
        return self.max_packet_size - EMIT_BATCH_OVERHEAD - len(self.process_bytes())

    @property
    def inline_send(self) -> bool:  # type: ignore[override]
        """try_send may send a datagram on the reporting thread, when that needs no wait
        (the socket is non-blocking: a full buffer declines rather than blocks). Not for a
        subclass that overrides ``send``: that one sees every batch, on the worker."""
        return type(self).send is UDPSender.send

    @property
    def accelerated(self) -> bool:
        """True when thrift's C extension writes the span heads."""
        return self._encoder.accelerated

    def process_bytes(self) -> bytes:
        """The encoded compact Process (built on first use, again after a fork)."""
        self._check_fork()
        if self._process is None:
            tags = process_tags(self._tracer_tags)
            # An encoder of its own: the sender's may be encoding spans on another thread.
            encoder = CompactEncoder(self._encoder.accelerated)
            self._process = compact_process(encoder, self._service_name, tags)
        return self._process

    def send(self, spans: Sequence[bytes]) -> None:
        """Pack encoded spans into datagrams and send them all."""
        process = self.process_bytes()
        if spans:  # as RemoteReporter cuts them, the whole batch fits one datagram
            # Built first and measured, rather than summing the spans' lengths before:
            # saves a pass over ~700 spans (~10 µs a datagram) on the worker.
            message = emit_batch(process, spans, self._seq_no + 1, self._stats())
            if len(message) <= self.max_packet_size:
                self._emit(process, spans, message)
                return
        budget = self.batch_bytes
        batch: list[bytes] = []
        size = 0
        for span in spans:
            length = len(span)
            if length > budget:
                self._too_large += 1
                self._warn.warning(
                    "dropped a span of %d bytes: over max_packet_size=%d",
                    length,
                    self.max_packet_size,
                )
                continue
            if size + length > budget:
                self._emit(process, batch)
                batch, size = [], 0
            batch.append(span)
            size += length
        if batch:
            self._emit(process, batch)

    def try_send(self, spans: Sequence[bytes]) -> bool:
        """Send one datagram now if nothing has to wait: connected (to an IP address it
        connects here), no lookup due, room in the socket buffer, a batch that fits one
        datagram. True once it is sent (or failed and counted); False when it would wait,
        having done nothing (``send`` will, on the worker). Costs a ``send`` syscall and
        two ``getsockopt`` calls, ~10-25 µs a datagram of ~500 spans, where waking the
        worker to send it cost the application ~0.1 µs a span in GIL hand-offs
        (bench_reporter.py --study)."""
        process = self.process_bytes()  # first: after a fork it drops the parent's socket
        if not spans:
            return False
        if self.resolve_interval is not None:  # a name: looked up, so only by the worker
            if self._sock is None or time.monotonic() >= self._next_resolve:
                return False
        elif self._sock is None:  # an IP address: connecting needs no lookup, no wait
            try:
                if self._connect() is None:
                    return False
            except OSError:  # the worker's send counts what this is
                return False
        message = emit_batch(process, spans, self._seq_no + 1, self._stats())
        if len(message) > self.max_packet_size:
            return False  # send() splits it
        return self._emit(process, spans, message, wait=False)

    def _stats(self) -> tuple[int, int, int]:
        """ClientStats: (fullQueueDroppedSpans, tooLargeDroppedSpans, failedToEmitSpans)."""
        return (self._queue_dropped(), self._too_large, self._failed)

    def _emit(
        self, process: bytes, spans: Sequence[bytes], message: bytes = b"", wait: bool = True
    ) -> bool:
        """Send one datagram: True once it is sent or counted as failed; False, with nothing
        done, when the socket buffer is full and ``wait`` is False (``try_send``, which
        has checked the socket is connected and no lookup is due)."""
        seq_no = self._seq_no + 1
        if not message:
            message = emit_batch(process, spans, seq_no, self._stats())
        try:
            if wait:
                if self._sock is not None and self.resolve_interval is not None:
                    self._follow_address_change()
                sock = self._sock or self._connect()
                if sock is None:
                    raise OSError(f"cannot resolve agent host {self.host!r}")
            elif self._sock is None:  # try_send checked; never here
                return False
            else:
                sock = self._sock
            # A connected UDP socket learns of an ICMP "port unreachable" only as a
            # pending error (SO_ERROR), which a plain send() would report on the *next*
            # datagram, and not send that one: with a dead agent every other datagram
            # counted as sent. So the pending error is read before sending (a refusal
            # that came back late, a round trip after the last check, belongs to the
            # datagram before: see _charge_late_refusal) and right after (on loopback
            # and on this host the refusal is already there when send() returns).
            # An unconnected socket would hear of no refusal at all. Two getsockopt
            # calls per datagram of up to 65 KB: under a microsecond each.
            late = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if late:
                self._charge_late_refusal(late)
            try:
                sock.send(message)  # non-blocking (see _connect)
            except BlockingIOError:  # the send buffer is full
                if not wait:
                    return False
                sock.settimeout(_SEND_WAIT)  # the worker waits a while for room
                try:
                    sock.send(message)
                finally:
                    sock.setblocking(False)
            refused = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if refused:
                raise OSError(refused, os.strerror(refused))
        except OSError as error:  # agent down, refused, unresolvable, EMSGSIZE, ...
            self._seq_no = seq_no
            self._last = (0, 0)
            self._failed += len(spans)
            self._send_errors += 1
            self._warn.warning(
                "UDP send of %s to %s:%d failed: %s%s",
                plural(len(spans), "span"),
                self.host,
                self.port,
                error,
                " (datagram too long for this OS: lower max_packet_size, e.g. 9216 on macOS)"
                if error.errno == errno.EMSGSIZE
                else "",
            )
            if error.errno != errno.ECONNREFUSED and self._sock is not None:
                self._sock.close()
                self._sock = None  # re-resolve and reconnect next time
        else:
            self._seq_no = seq_no
            self._last = (len(spans), len(message))
            self._spans_sent += len(spans)
            self._batches += 1
            self._bytes += len(message)
        return True

    def _charge_late_refusal(self, error: int) -> None:
        """A refusal found pending before a send: the agent refused the last datagram
        after it was counted as sent, so its spans move to the failed count (the one way
        ``spans_sent`` ever goes down; the identity sent + dropped stays exact)."""
        spans, size = self._last
        self._last = (0, 0)
        if not spans:
            return
        self._spans_sent -= spans
        self._batches -= 1
        self._bytes -= size
        self._failed += spans
        self._send_errors += 1
        self._warn.warning(
            "UDP send of %s to %s:%d failed: %s",
            plural(spans, "span"),
            self.host,
            self.port,
            os.strerror(error),
        )

    def _follow_address_change(self) -> None:
        """Every ``resolve_interval`` seconds, look the agent up again and reconnect when
        its address changed; a failed lookup keeps the current connection."""
        now = time.monotonic()
        if now < self._next_resolve or self._sock is None:
            return
        self._next_resolve = now + (self.resolve_interval or 0.0)
        address = self._resolve()
        try:
            current = self._sock.getpeername()
        except OSError:
            current = None
        if address is not None and current is not None and address[4][:2] != current[:2]:
            self._sock.close()
            self._sock = None
            self._last = (0, 0)

    def _resolve(self) -> Optional[tuple[Any, ...]]:
        """The agent's preferred address info (IPv4 first), or None when it does not resolve."""
        host = self.host
        if host.startswith("[") and host.endswith("]"):  # "[::1]": an IPv6 address
            host = host[1:-1]
        try:
            infos = resolve(host, self.port, socket.SOCK_DGRAM, _LOOKUP_TIMEOUT)
        except (OSError, UnicodeError):  # UnicodeError: a name IDNA cannot encode
            return None
        infos.sort(key=lambda info: info[0] != socket.AF_INET)
        return tuple(infos[0])

    def _connect(self) -> Optional[socket.socket]:
        """A UDP socket connected to the agent, or None while the host does not resolve."""
        now = time.monotonic()
        if now < self._resolve_after:
            return None
        info = self._resolve()
        if info is None:
            self._resolve_after = now + _RESOLVE_RETRY  # no DNS lookup per batch while down
            return None
        family, kind, proto, _, address = info
        self._next_resolve = now + (self.resolve_interval or 0.0)
        sock = socket.socket(family, kind, proto)
        try:
            # Non-blocking: a full send buffer never stalls an application thread's
            # try_send; the worker waits for room itself (_SEND_WAIT, in _emit).
            sock.setblocking(False)
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < self.max_packet_size:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.max_packet_size)
            sock.connect(address)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        return sock

    def close(self) -> None:
        """Close the socket; a later send opens a new one."""
        self._last = (0, 0)
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def __repr__(self) -> str:
        return f"UDPSender({self.host!r}, {self.port}, max_packet_size={self.max_packet_size})"


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
