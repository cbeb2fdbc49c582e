"""Prometheus metrics of a long-running RTDL (``fp-rtdl --follow --metrics-port N``): a collector that
reads the running decision loop's figures at scrape time (nothing is counted twice, nothing per event)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from fp_core.services.rtdl import RtdlStage


class RtdlCollector(Collector):
    def __init__(self, stage: RtdlStage, platform_run_id: str) -> None:
        self._stage, self._run = stage, platform_run_id

    def collect(self) -> Iterator[Any]:
        s = self._stage.current
        if s is None:
            return
        run = [self._run]
        for name, help_text, value in (
                ("fp_rtdl_consumed", "admitted records consumed", sum(s.consumed_by_topic.values())),
                ("fp_rtdl_decisions", "decisions made durable (audit + actions)", s.decisions),
                ("fp_rtdl_degraded_decisions", "decisions made in a degraded posture", s.degraded),
                ("fp_rtdl_case_triggers", "case triggers published", s.case_triggers),
                ("fp_rtdl_dead_letters", "records RTDL could not decode", s.dead_letters)):
            counter = CounterMetricFamily(name, help_text, labels=["platform_run_id"])
            counter.add_metric(run, value)
            yield counter
        latency = GaugeMetricFamily("fp_rtdl_decision_latency_ms", "decision latency percentiles so far",
                                    labels=["platform_run_id", "path", "quantile"])
        for path, histogram in (("ready_to_durable", s.ready_to_durable),
                                ("consumed_to_durable", s.consumed_to_durable)):
            for q, v in histogram.percentiles().items():
                if q != "count":
                    latency.add_metric([self._run, path, q], v)
        yield latency
        pending = GaugeMetricFamily("fp_rtdl_max_pending", "most transactions waiting for readiness",
                                    labels=["platform_run_id"])
        pending.add_metric(run, s.max_pending)
        yield pending


def serve_metrics(port: int, stage: RtdlStage, platform_run_id: str) -> CollectorRegistry:
    """Serve ``/metrics`` on 127.0.0.1:``port`` from a daemon thread; returns the registry."""
    registry = CollectorRegistry()
    registry.register(RtdlCollector(stage, platform_run_id))
    start_http_server(port, addr="127.0.0.1", registry=registry)
    return registry
