"""Reporting: what happens to a finished, sampled span.

``base`` defines the :class:`Reporter` seam; ``simple`` holds the in-process reporters
(null, in-memory, logging, composite); ``remote`` holds :class:`RemoteReporter`, which
queues spans and hands them to a sender (:mod:`jaeger_lite.senders`) on a worker thread.
"""

from .._lazy import lazy_names
from .base import Reporter
from .simple import CompositeReporter, InMemoryReporter, LoggingReporter, NullReporter

TYPE_CHECKING = False  # mypy reads this name as True
if TYPE_CHECKING:
    from .remote import DEFAULT_QUEUE_SIZE, RemoteReporter

__all__ = [
    "DEFAULT_QUEUE_SIZE",
    "CompositeReporter",
    "InMemoryReporter",
    "LoggingReporter",
    "NullReporter",
    "RemoteReporter",
    "Reporter",
]

# RemoteReporter loads the senders and their encoders (~45 ms with http.client and ssl):
# only when first read, so the tracer's NullReporter path never pays it.
_LAZY = {
    "DEFAULT_QUEUE_SIZE": "remote",
    "RemoteReporter": "remote",
}
if not TYPE_CHECKING:  # hidden from type checkers, so a misspelt name stays an error
    __getattr__, __dir__ = lazy_names(globals(), _LAZY)
