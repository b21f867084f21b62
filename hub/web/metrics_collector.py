"""The collector behind `GET /metrics` (hub/web/metrics.py): the hall in Prometheus's terms.

Every figure is read from the hub's state (and the store, for forwarding) when scraped, by one
collector: nothing is counted twice in the hot path, and a restarted hub reports the same
figures as before it stopped. Counts are "today" (the business day), as the office reads them.
A scrape needs a bearer token of the `metrics` role (`onestop token add --role metrics`) or an
office session.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.engine import queries
from hub.engine.model import HallState, RatingStatus
from hub.service import HallService


class HallCollector(Collector):
    def __init__(self, service: HallService, sockets: Callable[[], dict[str, int]],
                 forwarding: Callable[[], dict[str, Any] | None]) -> None:
        self.service, self.sockets, self.forwarding = service, sockets, forwarding

    def collect(self) -> Iterable[Metric]:
        service = self.service
        now = service.clock()
        yield from service.read(lambda state: self._hall(state, now))  # one consistent picture
        connected = GaugeMetricFamily("onestop_sockets_connected",
                                      "Connected Socket.IO clients by namespace",
                                      labels=["namespace"])
        for namespace, count in sorted(self.sockets().items()):
            connected.add_metric([namespace], count)
        yield connected
        yield from self._forwarding()

    def _hall(self, state: HallState, now: dt.datetime) -> list[Metric]:
        """Every figure read from the state, built while the caller holds the hall's lock."""
        seq = GaugeMetricFamily("onestop_events_last_seq",
                                "Sequence number of the last committed event")
        seq.add_metric([], state.seq)
        return [*self._tickets(state, now), *self._windows(state),
                *self._devices_and_alerts(state), seq]

    def _tickets(self, state: HallState, now: dt.datetime) -> Iterable[Metric]:
        by_status: Counter[tuple[str, str]] = Counter()
        calls: Counter[int] = Counter()
        ratings: Counter[str] = Counter()
        waits: dict[str, list[float]] = {}
        served: dict[str, list[float]] = {}
        for t in state.tickets.values():
            if t.day != state.day:
                continue
            by_status[(t.service, t.status.value)] += 1
            for v in t.visits:
                calls[v.window] += 1
                if v.end == "finished" and v.ended_at is not None:
                    served.setdefault(v.service, []).append(
                        (v.ended_at - v.called_at).total_seconds())
            if t.called_at is not None:
                waits.setdefault(t.service, []).append((t.called_at - t.issued_at).total_seconds())
            if t.rating is not None:
                r = t.rating
                key = str(r.level) if r.status is RatingStatus.RATED else r.status.value
                ratings[key] += 1
        tickets = GaugeMetricFamily("onestop_tickets_today", "Tickets issued today by state",
                                    labels=["service", "status"])
        for (service, status), n in sorted(by_status.items()):
            tickets.add_metric([service, status], n)
        yield tickets
        waiting = GaugeMetricFamily("onestop_tickets_waiting", "Tickets waiting now",
                                    labels=["service"])
        oldest = GaugeMetricFamily("onestop_wait_oldest_seconds",
                                   "How long the longest-waiting ticket has waited",
                                   labels=["service"])
        first: dict[str, dt.datetime] = {}
        for t in queries.waiting(state):
            first[t.service] = min(first.get(t.service, t.issued_at), t.issued_at)
        for service, n in sorted(queries.waiting_counts(state).items()):
            waiting.add_metric([service], n)
            oldest.add_metric([service], max((now - first[service]).total_seconds(), 0.0))
        yield waiting
        yield oldest
        yield _mean("onestop_wait_seconds_mean", "Mean wait of tickets called today", waits)
        yield _mean("onestop_service_seconds_mean", "Mean time at the window of cases finished "
                    "today", served)
        called = CounterMetricFamily("onestop_calls_today", "Calls made today by window",
                                     labels=["window"])
        for window, n in sorted(calls.items()):
            called.add_metric([str(window)], n)
        yield called
        rated = GaugeMetricFamily("onestop_ratings_today",
                                  "Ratings today: level 1 (非常满意) to 5 (非常不满意), pending, "
                                  "not_rated", labels=["level"])
        for level, n in sorted(ratings.items()):
            rated.add_metric([level], n)
        yield rated

    def _windows(self, state: HallState) -> Iterable[Metric]:
        counts: Counter[str] = Counter()
        for w in self.service.cfg.windows:
            win = queries.window_state(state, w.no)
            counts["closed" if win.clerk is None else "paused" if win.pause else "open"] += 1
        family = GaugeMetricFamily("onestop_windows", "Windows by status", labels=["status"])
        for status in ("open", "paused", "closed"):
            family.add_metric([status], counts[status])
        yield family

    def _devices_and_alerts(self, state: HallState) -> Iterable[Metric]:
        devices = GaugeMetricFamily("onestop_devices", "Devices reported by agents, by state",
                                    labels=["kind", "status"])
        for (kind, status), n in sorted(Counter(
                (d.kind, d.status) for d in state.devices.values()).items()):
            devices.add_metric([kind, status], n)
        yield devices
        alerts = GaugeMetricFamily("onestop_alerts_active", "电子监察 alerts holding now",
                                   labels=["kind"])
        for kind, n in sorted(Counter(a.kind for a in state.alerts.values()).items()):
            alerts.add_metric([kind], n)
        yield alerts

    def _forwarding(self) -> Iterable[Metric]:
        status = self.forwarding()
        if status is None:
            return
        oldest = status.get("oldest_unsent_at")
        age = 0.0
        if oldest:
            age = max((self.service.clock() - dt.datetime.fromisoformat(oldest)).total_seconds(),
                      0.0)
        for name, value, help_text in (
            ("backlog", status["backlog"],
             "Committed events not yet accepted by the supervision backend"),
            ("oldest_unsent_age_seconds", age, "Age of the oldest event not yet forwarded"),
            ("dead_letters", status["dead_letters"],
             "Events the backend rejected for good (onestop events dead)"),
            ("failures", status.get("failures", 0), "Failed delivery attempts (retried)"),
        ):
            family = GaugeMetricFamily(f"onestop_forwarding_{name}", help_text)
            family.add_metric([], float(value))
            yield family


def _mean(name: str, help_text: str, values: dict[str, list[float]]) -> Metric:
    family = GaugeMetricFamily(name, help_text, labels=["service"])
    for service, xs in sorted(values.items()):
        family.add_metric([service], sum(xs) / len(xs))
    return family


def registry_for(service: HallService, sockets: Callable[[], dict[str, int]],
                 forwarding: Callable[[], dict[str, Any] | None]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HallCollector(service, sockets, forwarding))
    return registry
