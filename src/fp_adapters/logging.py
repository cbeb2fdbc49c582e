"""structlog configured for JSON lines on stderr, with secrets redacted by key name."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_MARKERS = ("secret", "password", "api_key", "token", "sasl")


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if any(m in key.lower() for m in SECRET_MARKERS):
            event[key] = "***"
    return event


class _ToStructlog(logging.Handler):
    """Standard-library records (librdkafka's, through confluent-kafka's ``logger``) as JSON lines."""

    def emit(self, record: logging.LogRecord) -> None:
        structlog.get_logger(component=record.name).log(record.levelno, record.getMessage())


def kafka_logger() -> logging.Logger:
    """The logger given to every librdkafka client: its lines join the platform's JSON log (at the
    configured level) instead of landing raw (``%4|...``) in the middle of human output."""
    logger = logging.getLogger("librdkafka")
    if not logger.handlers:
        logger.addHandler(_ToStructlog())
        logger.propagate = False
    return logger


def configure(level: str = "INFO") -> None:
    kafka_logger().setLevel(getattr(logging, level))
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso", utc=True),
                    redact, structlog.processors.JSONRenderer(sort_keys=True)],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(component: str) -> Any:
    return structlog.get_logger(component=component)
