"""The development agent: receive what Jaeger clients send and print the traces.

``DevAgent`` runs in-process; ``jaeger-lite agent`` (or ``python -m jaeger_lite agent``)
runs it from the command line. See ``devagent.py`` for the behaviour and ``render.py`` for
the output.
"""

from .collect import Trace, TraceCollector
from .decode import DecodeError, decode_batch_body, decode_datagram
from .devagent import AgentStats, DevAgent
from .jsonout import JsonFile, trace_to_json
from .model import LogRecord, Process, ReceivedBatch, Ref, SpanRecord, Tag
from .otlp_decode import decode_otlp
from .render import render_trace

__all__ = [
    "AgentStats",
    "DecodeError",
    "DevAgent",
    "JsonFile",
    "LogRecord",
    "Process",
    "ReceivedBatch",
    "Ref",
    "SpanRecord",
    "Tag",
    "Trace",
    "TraceCollector",
    "decode_batch_body",
    "decode_datagram",
    "decode_otlp",
    "render_trace",
    "trace_to_json",
]
