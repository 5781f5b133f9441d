"""Reporting: what happens to a finished, sampled span.

``base`` defines the :class:`Reporter` seam; ``simple`` holds the in-process reporters
(null, in-memory, logging, composite); ``remote`` holds :class:`RemoteReporter`, which
queues spans and hands them to a sender (:mod:`jaeger_lite.senders`) on a worker thread.
"""

from .base import Reporter
from .remote import DEFAULT_QUEUE_SIZE, RemoteReporter
from .simple import CompositeReporter, InMemoryReporter, LoggingReporter, NullReporter

__all__ = [
    "DEFAULT_QUEUE_SIZE",
    "CompositeReporter",
    "InMemoryReporter",
    "LoggingReporter",
    "NullReporter",
    "RemoteReporter",
    "Reporter",
]
