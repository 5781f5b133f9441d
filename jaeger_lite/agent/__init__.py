"""The development agent: receive what Jaeger clients send and print the traces.

``DevAgent`` runs in-process; ``jaeger-lite agent`` (or ``python -m jaeger_lite agent``)
runs it from the command line. See ``devagent.py`` for the behaviour, ``render.py`` for
the terminal output, ``store.py``, ``query.py`` and ``web.py`` for the web UI.
"""

from .collect import Trace, TraceCollector
from .decode import DecodeError, decode_batch_body, decode_datagram
from .devagent import AgentStats, DevAgent
from .jsonout import JsonFile, trace_to_json
from .model import LogRecord, Process, ReceivedBatch, Ref, SpanRecord, Tag
from .otlp_decode import decode_otlp
from .query import QueryAPI
from .render import render_trace
from .sqlstore import SqliteSpanLog
from .store import TraceQuery, TraceStore
from .web import WebUI

__all__ = [
    "AgentStats",
    "DecodeError",
    "DevAgent",
    "JsonFile",
    "LogRecord",
    "Process",
    "QueryAPI",
    "ReceivedBatch",
    "Ref",
    "SpanRecord",
    "SqliteSpanLog",
    "Tag",
    "Trace",
    "TraceCollector",
    "TraceQuery",
    "TraceStore",
    "WebUI",
    "decode_batch_body",
    "decode_datagram",
    "decode_otlp",
    "render_trace",
    "trace_to_json",
]
