"""Log lines: JSON with the run's correlation keys, secrets scrubbed from keys and from values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import structlog

from fp_adapters.logging import LOG_CONTEXT_ENV, bind_run, configure, get_logger, register_secrets, scrub


def test_lines_carry_the_run_and_never_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOG_CONTEXT_ENV, raising=False)
    register_secrets(["s3cr3t-value-123"])
    out = tmp_path / "x.jsonl"
    try:
        configure("INFO", file=out)
        bind_run("pr-log", "sr-log")
        log = get_logger("ig")
        log.info("ig.batch", detail="auth failed for key s3cr3t-value-123 (sasl.password=hunter22x)")
        log.info("ig.creds", api_key="abc", note="token: xyz987")
        log.debug("hidden")
    finally:
        structlog.contextvars.clear_contextvars()
        configure("WARNING")
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 2  # DEBUG is below the level
    for line in lines:
        assert line["platform_run_id"] == "pr-log" and line["scenario_run_id"] == "sr-log"
        assert line["component"] == "ig"
    text = out.read_text()
    assert "s3cr3t-value-123" not in text and "hunter22x" not in text and "xyz987" not in text and '"abc"' not in text
    assert json.loads(__import__("os").environ[LOG_CONTEXT_ENV]) == {"platform_run_id": "pr-log",
                                                                      "scenario_run_id": "sr-log"}
    assert scrub("password=p4ss; other") == "password=***; other"
    with pytest.raises(ValueError, match="valid"):
        configure("LOUD")
