"""`/metrics` against a real hub process: the Prometheus text parses, the figures follow the
hall, and only a metrics token or an office session may scrape."""

from __future__ import annotations

import subprocess
import sys
import time

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


def test_metrics_show_a_backend_that_is_down(tmp_path):
    """The forwarder keeps retrying a backend that does not answer: the backlog, its age and
    the failed attempts show on /metrics (a quiet feed and a dead one must not look alike)."""
    from tests.hubproc import HALL_24H, free_port

    config = tmp_path / "hall.toml"
    config.write_text(HALL_24H.read_text(encoding="utf-8") + f"""
[backend]
url = "http://127.0.0.1:{free_port()}/events"
timeout_s = 0.5
max_backoff_s = 1
""", encoding="utf-8")
    hub = HubProcess(tmp_path / "hub", config=config)
    hub.provision()
    hub.start()
    forward = subprocess.Popen([sys.executable, "-m", "hub.cli", "forward", "--config",
                                str(config), "--data", str(hub.data_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert hub.issue("S1").ok
        office = hub.login("super")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            m = scrape(hub, office)
            if m.get(("onestop_forwarding_failures", ()), 0) >= 2:
                break
            time.sleep(0.2)
        assert m[("onestop_forwarding_failures", ())] >= 2
        assert m[("onestop_forwarding_backlog", ())] >= 1  # the ticket, never accepted
        assert m[("onestop_forwarding_oldest_unsent_age_seconds", ())] > 0
        assert m[("onestop_forwarding_dead_letters", ())] == 0
    finally:
        forward.terminate()
        forward.wait(10)
        hub.stop()
