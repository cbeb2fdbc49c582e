"""The error hierarchy every adapter translates its driver errors into.

Contract tests and apps assert only on these, so one expectation holds for every substrate.
"""

from __future__ import annotations


class PlatformError(Exception):
    """Base of all errors raised across a port boundary."""


class AppendOnlyViolation(PlatformError):
    """A store refused to update or delete a record of an append-only log."""


class ObjectExists(PlatformError):
    """A write would overwrite an existing object whose key is write-once."""


class NotFound(PlatformError):
    """The requested object, parameter or record does not exist."""


class TransientError(PlatformError):
    """A failure worth a bounded retry (timeouts, broker not ready, connection reset)."""


class PublishAmbiguous(TransientError):
    """The bus may or may not hold the record; only an idempotent re-publish resolves it."""


class ConfigError(PlatformError):
    """Configuration is missing or invalid; the message names the field."""


class GateRefused(PlatformError):
    """A gate said no: no PASS, digest mismatch, or a pin of another run."""


class InvalidInput(PlatformError):
    """A request the platform cannot serve as asked (e.g. a dataset with no labels); the message says why."""


class LaneLost(PlatformError):
    """An IG lane's process is gone (killed, crashed): its share is admitted by the caller's own gate."""
