"""structlog configured for JSON lines, with the run's correlation keys on every line and secrets
redacted by key name and by value.

Where lines go: ``FP_LOG_FILE`` when set (a stage process started by ``fp run`` writes to
``logs/<platform_run_id>/<component>.jsonl``), else stderr. The level is the argument, else
``FP_LOG_LEVEL``, else INFO. ``FP_LOG_CONTEXT`` (JSON) carries the correlation keys a parent hands
its child process (``platform_run_id``, ``scenario_run_id``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable, MutableMapping
from pathlib import Path
from typing import Any, TextIO

import structlog

from fp_adapters.settings import REPO_ROOT

SECRET_MARKERS = ("secret", "password", "api_key", "token", "sasl")
LOG_FILE_ENV, LOG_LEVEL_ENV = "FP_LOG_FILE", "FP_LOG_LEVEL"
LOG_CONTEXT_ENV, LOG_DIR_ENV = "FP_LOG_CONTEXT", "FP_LOG_DIR"
_SECRET_ASSIGNMENT = re.compile(r"(?i)((?:password|secret|api[_.-]?key|token)[\"']?\s*[=:]\s*[\"']?)([^\s,;\"'}&]+)")
_secret_values: set[str] = set()
_stream: TextIO | None = None


def register_secrets(values: Iterable[str]) -> None:
    """Values that must never be written (credentials read at start-up): replaced by ``***`` wherever
    they appear in a logged value, error strings included."""
    _secret_values.update(v for v in values if v and len(v) >= 4)


def scrub(text: str) -> str:
    for value in _secret_values:
        if value in text:
            text = text.replace(value, "***")
    return _SECRET_ASSIGNMENT.sub(r"\1***", text)


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if any(m in key.lower() for m in SECRET_MARKERS):
            event[key] = "***"
        elif isinstance(event[key], str):
            event[key] = scrub(event[key])
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


def log_dir(platform_run_id: str) -> Path:
    """``logs/<platform_run_id>/`` (under ``FP_LOG_DIR`` when set, else the repository)."""
    return Path(os.environ.get(LOG_DIR_ENV) or REPO_ROOT / "logs") / platform_run_id


def log_file() -> Path | None:
    """The file this process logs to (``FP_LOG_FILE``), None for stderr."""
    return Path(os.environ[LOG_FILE_ENV]) if os.environ.get(LOG_FILE_ENV) else None


def configure(level: str | None = None, file: Path | None = None) -> None:
    """(Re)configure the process's JSON log. ``file`` (else ``FP_LOG_FILE``) receives the lines, else stderr."""
    global _stream
    name = (level or os.environ.get(LOG_LEVEL_ENV) or "INFO").upper()
    numeric = logging.getLevelNamesMapping().get(name)
    if numeric is None:
        raise ValueError(f"log level {name!r}; valid: DEBUG, INFO, WARNING, ERROR")
    target = file or log_file()
    if _stream is not None:
        _stream.close()
        _stream = None
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        _stream = target.open("a", buffering=1, encoding="utf-8")
    kafka_logger().setLevel(numeric)
    context = json.loads(os.environ.get(LOG_CONTEXT_ENV) or "{}")
    if context:
        structlog.contextvars.bind_contextvars(**context)
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True), redact,
                    structlog.processors.JSONRenderer(sort_keys=True)],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=_stream or sys.stderr),
        cache_logger_on_first_use=False,
    )


def bind_run(platform_run_id: str, scenario_run_id: str | None = None, **keys: str) -> None:
    """Put the run's correlation keys on every following line of this process and of the processes it
    starts (through ``FP_LOG_CONTEXT``)."""
    context = {"platform_run_id": platform_run_id, **({"scenario_run_id": scenario_run_id} if scenario_run_id else {}),
               **keys}
    structlog.contextvars.bind_contextvars(**context)
    inherited = json.loads(os.environ.get(LOG_CONTEXT_ENV) or "{}")
    os.environ[LOG_CONTEXT_ENV] = json.dumps({**inherited, **{k: v for k, v in context.items() if k != "component"}})


def get_logger(component: str) -> Any:
    return structlog.get_logger(component=component)
