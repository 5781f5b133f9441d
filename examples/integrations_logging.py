"""Log correlation: trace and span ids in every log line (logging, structlog, loguru), and
warnings copied into the span.

Run it:  python examples/integrations_logging.py   (structlog and loguru parts if installed)

install_log_correlation() adds trace_id, span_id and trace_sampled to every log record
(empty strings outside a span), so %(trace_id)s works in any format string and JSON
formatters find the keys. SpanLogHandler copies WARNING and above into the active span,
so the trace shows what was logged while it ran.
"""

import logging
import os
import sys

import jaeger_lite
from jaeger_lite.integrations import (
    LoguruPatcher,
    SpanLogHandler,
    StructlogProcessor,
    install_log_correlation,
)


def structlog_logger():
    """A structlog logger rendering JSON, with the trace fields (None if not installed)."""
    try:
        import structlog
    except ImportError:
        return None
    structlog.configure(
        processors=[StructlogProcessor(), structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
    )
    return structlog.get_logger()


def loguru_logger():
    """loguru's logger with the trace fields in ``extra`` (None if not installed)."""
    try:
        from loguru import logger
    except ImportError:
        return None
    logger.remove()
    logger.add(sys.stdout, format="loguru trace={extra[trace_id]} {message}")
    logger.configure(patcher=LoguruPatcher())
    return logger


def main() -> None:
    tracer = jaeger_lite.init_tracer("billing", sampler_type="const")
    install_log_correlation()  # every logger, every handler
    logging.basicConfig(
        stream=sys.stdout,
        level=logging.INFO,
        format="%(levelname)s trace=%(trace_id)s span=%(span_id)s %(message)s",
    )
    logging.getLogger().addHandler(SpanLogHandler())  # WARNING+ into the active span
    log = logging.getLogger("billing")
    structured, loguru = structlog_logger(), loguru_logger()

    log.info("starting (no span: empty ids)")
    with tracer.start_active_span("charge-card"):
        log.info("charging 12.50 EUR")
        log.warning("card expires this month")  # also a log entry on the span
        if structured is not None:
            structured.info("receipt queued", amount=12.5)
        if loguru is not None:
            loguru.info("ledger updated")
    tracer.close()


if __name__ == "__main__":
    # --- only for this example: stands in for a real Jaeger agent -------------------
    from jaeger_lite.agent import DevAgent

    with DevAgent(compact_port=0, binary_port=None, http_port=None) as agent:
        os.environ.update(JAEGER_AGENT_HOST="127.0.0.1", JAEGER_AGENT_PORT=str(agent.compact_port))
        main()
        agent.wait_for_spans(1, timeout=5)
    print(agent.summary())
