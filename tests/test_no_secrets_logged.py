"""No secret in any log: a hub run at debug level, in both its serving modes, is sent every kind
of secret — `?token=` page addresses (deprecated, still served), bearer tokens on the API and a
socket, a password signing in, a pairing secret and the token it claims, a phone link's
capability in a path and a socket's auth — and its log is then
searched for each value: none is there. The shipped nginx config's access log likewise keeps
no query string."""

from __future__ import annotations

import pytest
import requests
import socketio

from tests.hubproc import PASSWORD, HubProcess, quiet_hall

pytestmark = pytest.mark.slow


class DebugHub(HubProcess):
    """The hub as `onestop --log-level debug hub ...`: every line any library writes."""

    def command(self, *args: str) -> list[str]:
        found = list(args)
        found[found.index("--log-level") + 1] = "debug"
        return super().command(*found)


def use_every_secret(hub: HubProcess) -> list[str]:
    """Send the hub every kind of secret it takes; returns the values sent."""
    screen, kiosk = hub.tokens["screen"], hub.tokens["kiosk"]
    for page in (f"/display/hall?token={screen}&zone=1F", f"/display/window/1?token={screen}",
                 f"/kiosk/?token={kiosk}", f"/display/badge/JZ001?token={screen}",
                 f"/display/hall?token={kiosk}-but-wrong"):
        assert requests.get(hub.url + page, timeout=5).status_code in (200, 401, 404)
    clerk = hub.login("clerk1", 1)
    office = hub.login("super")
    bad = requests.post(f"{hub.url}/api/v1/login",
                        json={"username": "super", "password": f"{PASSWORD}-typo"}, timeout=5)
    assert bad.status_code == 401
    issued = hub.issue("S1")
    assert issued.status_code == 201
    capability = issued.json()["link"].rsplit("/", 1)[1]  # a phone's link: the ticket's page
    assert requests.get(f"{hub.url}/api/v1/citizen/{capability}", timeout=5).ok
    phone = socketio.Client(reconnection=False)
    phone.connect(hub.url, namespaces=["/citizen"], transports=["websocket"],
                  auth={"capability": capability}, wait_timeout=5)
    assert hub.act(clerk, 1, "call-next").ok
    phone.disconnect()
    requests.get(f"{hub.url}/api/v1/queue?token={office}", timeout=5)  # a token where none goes
    asked = requests.post(f"{hub.url}/api/v1/pairing", json={"kind": "screen"}, timeout=5).json()
    assert requests.post(f"{hub.url}/api/v1/pairing/approve", headers=hub.auth(office),
                         json={"code": asked["code"], "role": "screen", "name": "s2"},
                         timeout=5).ok
    paired = requests.post(f"{hub.url}/api/v1/pairing/claim", json={"secret": asked["secret"]},
                           timeout=5).json()["token"]
    sio = socketio.Client(reconnection=False)
    sio.connect(hub.url, namespaces=["/display"], transports=["websocket"],
                auth={"token": paired, "room": "hall"}, wait_timeout=5)
    sio.disconnect()
    return [screen, kiosk, hub.tokens["agent"], clerk, office, PASSWORD, asked["secret"], paired,
            capability]


@pytest.mark.parametrize("mode", ["threading", "eventlet"])
def test_the_hub_logs_no_token_and_no_password(tmp_path, mode):
    hub = DebugHub(tmp_path / "data", config=quiet_hall(tmp_path),
                   extra_args=["--async-mode", mode])
    hub.provision()
    hub.start()
    try:
        secrets = use_every_secret(hub)
    finally:
        hub.stop()
    log = hub.log()
    assert "with ?token= in its address: deprecated" in log  # the warning, without the value
    if mode == "threading":  # Werkzeug logs each request: its query redacted
        assert "/display/hall?token=[redacted]" in log, log[-2000:]
    found = [s[:6] for s in secrets if s in log]
    assert not found, f"secrets in the hub's log: {found}"


def test_the_shipped_nginx_access_log_keeps_no_query_string(tmp_path):
    from tests.test_scaleout import Nginx

    hub = HubProcess(tmp_path / "data", config=quiet_hall(tmp_path))
    hub.provision()
    hub.start()
    nginx = Nginx(tmp_path, [hub.port, hub.port])
    try:
        token = hub.tokens["screen"]
        base = f"https://127.0.0.1:{nginx.port}"
        page = f"/display/hall?token={token}"
        # The plain port only redirects, and logs that request too.
        moved = requests.get(f"http://127.0.0.1:{nginx.plain_port}{page}", timeout=5,
                             allow_redirects=False)
        assert moved.status_code == 308, moved.status_code
        assert requests.get(f"{base}{page}", timeout=5, verify=nginx.verify).ok
        assert requests.get(f"{base}/api/v1/queue", headers=hub.auth(token), timeout=5,
                            verify=nginx.verify).ok
    finally:
        nginx.stop()
        hub.stop()
    access = nginx.dir / "access.log"
    logged = access.read_text()
    assert "GET /display/hall HTTP/1.1" in logged, logged
    assert token not in logged and "token=" not in logged
