"""``/metrics`` in Prometheus's text format on a loopback port (off unless ``[metrics]``).

A custom collector reads one `Health` snapshot per scrape, so the figures are those
SNMP and ``faxctl status`` show, with no second bookkeeping. prometheus_client serves
them from its own thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from faxd.health import Health
from faxd.ops_config import MetricsConfig

log = structlog.get_logger("faxd.metrics")


class HealthCollector(Collector):
    def __init__(self, health: Callable[[], Health]) -> None:
        self.health = health

    def collect(self) -> Iterator[Any]:
        h = self.health()
        state = GaugeMetricFamily(
            "faxd_service_state", "1 for the current state (ready, degraded, down)", labels=["state"]
        )
        for word in ("ready", "degraded", "down"):
            state.add_metric([word], 1.0 if h.word == word else 0.0)
        yield state
        yield GaugeMetricFamily("faxd_outage_declared", "1 while an outage is declared", value=float(h.outage_declared))
        queue = GaugeMetricFamily("faxd_jobs", "Jobs by state", labels=["state"])
        for name, count in h.queue.items():
            queue.add_metric([name], float(count))
        yield queue
        yield GaugeMetricFamily(
            "faxd_oldest_queued_seconds", "Age of the oldest queued job", value=float(h.oldest_queued_seconds)
        )
        last = h.last_confirmed.timestamp() if h.last_confirmed else 0.0
        yield GaugeMetricFamily(
            "faxd_last_confirmed_timestamp_seconds", "When the last confirmed transmission ended (0: never)", value=last
        )
        drill = GaugeMetricFamily("faxd_drill_result", "1 for the last drill's result", labels=["result"])
        for word in ("none", "passed", "failed", "running"):
            drill.add_metric([word], 1.0 if h.drill.name.lower() == word else 0.0)
        yield drill
        up = GaugeMetricFamily("faxd_modem_up", "1 if the modem is up", labels=["modem"])
        calls = CounterMetricFamily("faxd_modem_calls", "Calls placed", labels=["modem"])
        pages = CounterMetricFamily("faxd_modem_pages_sent", "Pages the remote confirmed", labels=["modem"])
        failures = CounterMetricFamily(
            "faxd_modem_failures", "Calls that did not end confirmed", labels=["modem", "outcome"]
        )
        for m in h.modems:
            up.add_metric([m.name], 1.0 if m.up else 0.0)
            calls.add_metric([m.name], float(m.calls))
            pages.add_metric([m.name], float(m.pages_sent))
            for outcome, count in sorted(m.failures.items()):
                failures.add_metric([m.name, outcome], float(count))
        yield from (up, calls, pages, failures)


class MetricsServer:
    def __init__(self, settings: MetricsConfig, health: Callable[[], Health]) -> None:
        self.settings = settings
        self.registry = CollectorRegistry()
        self.registry.register(HealthCollector(health))
        self._server: Any = None
        self._thread: Any = None
        self.port = settings.port

    def start(self) -> int:
        """Serve; returns the port (the bound one when configured as 0). Raises OSError."""
        self._server, self._thread = start_http_server(
            self.settings.port, addr=self.settings.address, registry=self.registry
        )
        self.port = int(self._server.server_port)
        log.info("metrics.started", address=self.settings.address, port=self.port)
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
