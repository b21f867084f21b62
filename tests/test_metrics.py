"""`/metrics` against a real hub process: the Prometheus text parses, the figures follow the
hall, and only a metrics token or an office session may scrape."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
import socketio
from prometheus_client.parser import text_string_to_metric_families

from tests.hubproc import HubProcess

pytestmark = pytest.mark.slow


def scrape(hub: HubProcess, token: str) -> dict[tuple[str, tuple], float]:
    r = requests.get(f"{hub.url}/metrics", headers=hub.auth(token), timeout=5)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_follow_the_hall(tmp_path):
    hub = HubProcess(tmp_path / "hub")
    hub.provision()
    token = subprocess.run(
        [sys.executable, "-m", "hub.cli", "token", "add", "--role", "metrics", "--name", "prom",
         "--data", str(hub.data_dir)], capture_output=True, text=True, check=True).stdout.strip()
    hub.start()
    screen = socketio.Client(reconnection=False)
    try:
        assert requests.get(f"{hub.url}/metrics", timeout=5).status_code == 401
        r = requests.get(f"{hub.url}/metrics", headers=hub.auth(hub.tokens["kiosk"]), timeout=5)
        assert r.status_code == 403
        for _ in range(3):
            assert hub.issue("S1").ok
        clerk = hub.login("clerk1", 1)
        assert hub.act(clerk, 1, "call-next").ok
        assert hub.act(clerk, 1, "finish", outcome="immediate").ok
        screen.connect(hub.url, namespaces=["/display"], auth={"token": hub.tokens["screen"]},
                       transports=["websocket"], wait_timeout=5)
        m = scrape(hub, token)
        assert m[("onestop_tickets_waiting", (("service", "S1"),))] == 2
        assert m[("onestop_tickets_today", (("service", "S1"), ("status", "waiting")))] == 2
        assert m[("onestop_tickets_today", (("service", "S1"), ("status", "done")))] == 1
        assert m[("onestop_calls_today_total", (("window", "1"),))] == 1
        assert m[("onestop_ratings_today", (("level", "pending"),))] == 1
        assert m[("onestop_windows", (("status", "open"),))] == 1
        assert m[("onestop_windows", (("status", "closed"),))] == 3
        assert m[("onestop_sockets_connected", (("namespace", "/display"),))] == 1
        assert m[("onestop_wait_oldest_seconds", (("service", "S1"),))] >= 0
        assert m[("onestop_events_last_seq", ())] >= 6
        assert not [k for k in m if k[0].startswith("onestop_forwarding")]  # no backend here
        # An office session may read it too.
        assert scrape(hub, hub.login("super"))[("onestop_tickets_waiting", (("service", "S1"),))]
    finally:
        screen.disconnect()
        hub.stop()
