"""TLS on the hall's LAN, over loopback: a CA made by `onestop ca`, a hub process serving HTTPS
with its certificate, and clients that pin that CA (requests, the agents' Socket.IO link).
Plain HTTP and clients that trust any other CA are refused; the certificate's end is watched.

Certificates are made on the system's clock (TLS checks the real time), hubs run on the suite's
set clock, and the expiry test sets the hub's clock from the certificate's own end date: no test
depends on the day it runs.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import socketio
from cryptography import x509

from agent.hub_link import HubLink
from agent.outbox import Outbox
from hub.tls.ca import not_after
from tests.hubproc import HubProcess, free_port, make_tls
from tests.waiting import eventually

pytestmark = pytest.mark.slow

HSTS = "Strict-Transport-Security"


def onestop(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ONESTOP_CLOCK"}
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], check=False,
                          capture_output=True, text=True, env=env, timeout=30)


def test_ca_init_keeps_its_key_private_and_never_overwrites(tmp_path):
    ca = tmp_path / "ca"
    assert onestop("ca", "init", "--dir", str(ca)).returncode == 0
    assert stat.S_IMODE((ca / "ca.key").stat().st_mode) == 0o600
    before = (ca / "ca.key").read_bytes()
    again = onestop("ca", "init", "--dir", str(ca))
    assert again.returncode == 2 and "exists" in again.stderr
    assert (ca / "ca.key").read_bytes() == before
    cert = x509.load_pem_x509_certificate((ca / "ca.pem").read_bytes())
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_ca_issue_names_every_host_and_chains_to_the_ca(tmp_path):
    ca = tmp_path / "ca"
    onestop("ca", "init", "--dir", str(ca))
    done = onestop("ca", "issue", "--dir", str(ca), "--host", "hub.local", "--host",
                   "192.168.1.10", "--host", "fd00::10", "--days", "90")
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((ca / "hub.local.key").stat().st_mode) == 0o600
    server = x509.load_pem_x509_certificate((ca / "hub.local.pem").read_bytes())
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["hub.local"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["192.168.1.10",
                                                                          "fd00::10"]
    server.verify_directly_issued_by(
        x509.load_pem_x509_certificate((ca / "ca.pem").read_bytes()))
    assert (server.not_valid_after_utc - server.not_valid_before_utc).days == 90
    refused = onestop("ca", "issue", "--dir", str(ca), "--host", "hub.local")
    assert refused.returncode == 2 and "exists" in refused.stderr  # no silent replacement
    bad = onestop("ca", "issue", "--dir", str(ca), "--host", "bad host", "--out",
                  str(tmp_path / "x"))
    assert bad.returncode == 2 and "neither a host name nor an IP" in bad.stderr
    nothing = onestop("ca", "issue", "--dir", str(tmp_path / "none"), "--host", "a")
    assert nothing.returncode == 2 and "onestop ca init" in nothing.stderr


@pytest.fixture(scope="module")
def tls_hub(tmp_path_factory):
    """A hub serving HTTPS with a certificate from `onestop ca`, and a plain-HTTP port that
    only redirects; `other` is a second hall's CA (what a wrong client pins)."""
    base = tmp_path_factory.mktemp("tls")
    redirect_port = free_port()
    hub = HubProcess(base / "data", tls=make_tls(base / "hall"),
                     extra_args=["--http-redirect-port", str(redirect_port)])
    hub.redirect_port = redirect_port  # type: ignore[attr-defined]
    hub.other = make_tls(base / "other").ca  # type: ignore[attr-defined]
    hub.provision()
    hub.start()
    yield hub
    hub.stop()


def test_the_hub_answers_over_https_with_hsts(tls_hub):
    r = requests.get(f"{tls_hub.url}/healthz", verify=tls_hub.verify, timeout=5)
    assert r.status_code == 200 and r.headers[HSTS] == "max-age=31536000"
    page = requests.get(f"{tls_hub.url}/kiosk/", verify=tls_hub.verify, timeout=5)
    assert HSTS in page.headers
    assert tls_hub.issue().status_code == 201  # the kiosk's API over TLS


def test_plain_http_on_the_tls_port_is_refused_without_a_traceback(tls_hub):
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{tls_hub.port}/healthz", timeout=5)
    eventually(lambda: "TLS handshake with 127.0.0.1 refused: HTTP_REQUEST" in tls_hub.log(),
               what="the refusal in the hub's log")
    assert "Traceback" not in tls_hub.log()
    assert requests.get(f"{tls_hub.url}/healthz", verify=tls_hub.verify, timeout=5).ok


def test_a_client_that_connects_and_says_nothing_stalls_nobody(tls_hub):
    """The handshake runs in the connection's own green thread, not in the accept loop."""
    import socket

    with socket.create_connection(("127.0.0.1", tls_hub.port)):
        assert requests.get(f"{tls_hub.url}/healthz", verify=tls_hub.verify, timeout=5).ok


def test_the_plain_port_only_redirects_to_https(tls_hub):
    plain = f"http://127.0.0.1:{tls_hub.redirect_port}"
    r = requests.get(f"{plain}/display/hall?zone=1F", allow_redirects=False, timeout=5)
    assert r.status_code == 308
    assert r.headers["Location"] == f"https://127.0.0.1:{tls_hub.port}/display/hall?zone=1F"
    # A sign-in sent in clear is not answered: it is sent on (308 keeps the method) to HTTPS.
    login = requests.post(f"{plain}/api/v1/login", json={"username": "super", "password": "x"},
                          allow_redirects=False, timeout=5)
    assert login.status_code == 308 and not login.content
    followed = requests.get(f"{plain}/healthz", verify=tls_hub.verify, timeout=5)
    assert followed.ok and followed.url.startswith("https://")


def test_clients_trusting_any_other_ca_are_refused(tls_hub):
    for verify in (True, str(tls_hub.other)):  # the system's store; another hall's CA
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{tls_hub.url}/healthz", verify=verify, timeout=5)


def link(hub: HubProcess, tmp_path: Path, ca: str) -> HubLink:
    return HubLink(hub.url, hub.tokens["agent"], [1], Outbox(tmp_path / f"{Path(ca).stem}.db"),
                   on_snapshot=lambda m: None, on_event=lambda m: None, ca_file=ca)


def test_an_agent_pinning_the_hall_ca_connects_and_one_with_another_ca_is_refused(
        tls_hub, tmp_path, caplog):
    good = link(tls_hub, tmp_path / "good", str(tls_hub.tls.ca))
    wrong = link(tls_hub, tmp_path / "wrong", str(tls_hub.other))
    try:
        good.start()
        wrong.start()
        eventually(lambda: good.connected, what="the agent that pins the hall CA connected")
        assert good.call("health", {"devices": []})["ok"] is True
        eventually(lambda: "the hub's certificate is not trusted by" in caplog.text,
                   what="the wrong-CA agent's refusal logged")
        assert not wrong.connected
    finally:
        good.stop()
        wrong.stop()


def test_a_socketio_client_without_the_hall_ca_is_refused(tls_hub):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(tls_hub.url, namespaces=["/display"], transports=["websocket"],
                       auth={"token": tls_hub.tokens["screen"]}, wait_timeout=5)


def test_an_agent_config_with_an_https_hub_needs_the_hall_ca(tmp_path, monkeypatch):
    from agent.config import load_agent_config
    from hub.config import ConfigError

    monkeypatch.delenv("ONESTOP_CA_FILE", raising=False)
    path = tmp_path / "agent.toml"
    path.write_text('name = "w1"\nhub = "https://hub.local:8443"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="ca_file"):
        load_agent_config(path)
    path.write_text(f'name = "w1"\nhub = "https://hub.local:8443"\nca_file = "{tmp_path}/no"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match="not a readable file"):
        load_agent_config(path)
    (tmp_path / "ca.pem").write_text("x")
    monkeypatch.setenv("ONESTOP_CA_FILE", str(tmp_path / "ca.pem"))
    path.write_text('name = "w1"\nhub = "https://hub.local:8443"\n', encoding="utf-8")
    assert load_agent_config(path).ca() == str(tmp_path / "ca.pem")


def test_the_office_is_alerted_before_the_hubs_certificate_expires(tmp_path, monkeypatch):
    """The hub's clock is set 10 days before its certificate's end (the certificate was made
    on today's real date): the alert must be up after the first housekeeping tick."""
    monkeypatch.setenv("ONESTOP_TICK_S", "0.3")
    tls = make_tls(tmp_path / "hall", days=60)
    ten_days_before = not_after(tls.cert) - dt.timedelta(days=10)
    hub = HubProcess(tmp_path / "data", tls=tls, clock=ten_days_before.isoformat())
    hub.provision()
    hub.start()
    try:
        office = hub.login("super")

        def cert_alert() -> list[dict]:
            r = requests.get(f"{hub.url}/api/v1/alerts", headers=hub.auth(office),
                             verify=hub.verify, timeout=5)
            return [a for a in r.json()["alerts"] if a["kind"] == "tls_cert"]

        alerts = eventually(cert_alert, what="the certificate alert")
        day = not_after(tls.cert).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        assert day.isoformat() in alerts[0]["message"]
    finally:
        hub.stop()


def test_onestop_reload_reaches_a_tls_hub_pinning_the_ca(tls_hub, tmp_path):
    """`onestop reload` reads the hub's https:// address from DATA/hub.json and checks /healthz
    with the hall CA (--ca)."""
    import json

    info = json.loads((tls_hub.data_dir / "hub.json").read_text(encoding="utf-8"))
    assert info["url"] == tls_hub.url
    done = onestop("reload", "--data", str(tls_hub.data_dir), "--ca", str(tls_hub.tls.ca))
    assert done.returncode == 0, done.stderr
    assert "runs now" in done.stdout  # seen on /healthz, over TLS


def test_the_hubs_message_queue_over_tls_with_a_password(tmp_path):
    """A pair's Redis (README "TLS"): rediss:// with the hall CA pinned in the URL and a
    password. The hub's start-up check gets through; a wrong password or CA is refused, and
    the refusal never says the password."""
    from hub.main import check_message_queue
    from tests.pgredis import Redis

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (scripts/system-deps.sh)")
    tls = make_tls(tmp_path / "hall")
    redis = Redis(tls=tls, password="s3cret-Queue").start()
    try:
        check_message_queue(redis.url)
        with pytest.raises(OSError) as wrong:
            check_message_queue(redis.url.replace("s3cret-Queue", "guessed-Pass"))
        assert "guessed-Pass" not in str(wrong.value) and "***" in str(wrong.value)
        other = make_tls(tmp_path / "other").ca
        with pytest.raises(OSError, match="certificate verify failed"):
            check_message_queue(redis.url.replace(str(tls.ca), str(other)))
        with pytest.raises(OSError):  # plain redis:// to a TLS-only port
            check_message_queue(f"redis://:s3cret-Queue@127.0.0.1:{redis.port}/0")
    finally:
        redis.stop()
