"""`onestop install --role ...` into a fake root: the files, their modes, the commands it would
run, and example configs that the hub and the agent accept as they are."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from agent.config import load_agent_config
from hub.config import load_config
from hub.install import ROLES, UNITS_DIR, install


def _install(root: Path, role: str, **kw) -> str:
    out = io.StringIO()
    install(role, root=root, out=out, run=_never, **kw)
    return out.getvalue()


def _never(cmd: list[str]) -> None:
    raise AssertionError(f"ran {cmd} under --root")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


EXPECTED = {
    "hub": {"etc/onestop/hall.toml", "etc/onestop/forward.env", "etc/onestop/hub.env",
            "etc/systemd/system/onestop-hub.service",
            "etc/systemd/system/onestop-forward.service"},
    "window": {"etc/onestop/agent-window.toml", "etc/onestop/agent-window.env",
               "etc/systemd/system/onestop-agent@.service"},
    "audio": {"etc/onestop/agent-audio.toml", "etc/onestop/agent-audio.env",
              "etc/systemd/system/onestop-agent@.service"},
    "kiosk": {"etc/onestop/agent-kiosk.toml", "etc/onestop/agent-kiosk.env",
              "etc/onestop/browser-kiosk.env", "etc/systemd/system/onestop-agent@.service",
              "etc/systemd/system/onestop-browser@.service"},
    "screen": {"etc/onestop/browser-screen.env",
               "etc/systemd/system/onestop-browser@.service"},
}


@pytest.mark.parametrize("role", ROLES)
def test_install_role_into_a_fake_root(tmp_path: Path, role: str) -> None:
    printed = _install(tmp_path, role)
    assert _files(tmp_path) == EXPECTED[role]
    assert (tmp_path / "var/lib/onestop").is_dir()
    assert _mode(tmp_path / "var/lib/onestop") == 0o750
    for name in _files(tmp_path):
        path = tmp_path / name
        assert _mode(path) == (0o600 if name.endswith(".env") else 0o644), name
        if name.startswith("etc/systemd/"):
            assert path.read_bytes() == (UNITS_DIR / path.name).read_bytes()
    lines = printed.splitlines()
    assert "would run: apt-get update" in lines
    apt = next(line for line in lines if line.startswith("would run: apt-get install"))
    assert "python3-venv" in apt
    if role in ("kiosk", "screen"):
        assert {"chromium", "cage", "fonts-noto-cjk"} <= set(apt.split())
    if role == "audio":
        assert {"espeak-ng", "alsa-utils"} <= set(apt.split())
    if role == "hub":
        assert "sqlite3" in apt.split()
    assert ("would run: useradd --system --user-group --home-dir /var/lib/onestop "
            "--no-create-home --shell /usr/sbin/nologin --groups dialout,input,lp,audio "
            "onestop") in lines
    assert "would run: systemctl daemon-reload" in lines
    assert "Next steps:" in lines
    if role == "hub":
        assert "onestop token add --role agent" in printed
        assert "systemctl enable --now onestop-hub.service onestop-forward.service" in printed
        load_config(tmp_path / "etc/onestop/hall.toml")  # the example is a valid hall
    if role in ("window", "audio", "kiosk"):
        assert f"systemctl enable --now onestop-agent@{role}.service" in printed
        cfg = load_agent_config(tmp_path / f"etc/onestop/agent-{role}.toml")
        assert cfg.name == role and cfg.state_dir == f"/var/lib/onestop/agent-{role}"
        assert cfg.hub == "http://hub.local:8080"
        assert (cfg.voice is not None) == (role == "audio")
        assert (cfg.printer is not None and cfg.scanner is not None) == (role == "kiosk")
        assert bool(cfg.buses) == (role == "window")
        env = (tmp_path / f"etc/onestop/agent-{role}.env").read_text()
        assert "ONESTOP_AGENT_TOKEN=" in env
    if role in ("kiosk", "screen"):
        env = (tmp_path / f"etc/onestop/browser-{role}.env").read_text()
        assert 'ONESTOP_URL="http://hub.local:8080/' in env
        assert f"systemctl enable --now onestop-browser@{role}.service" in printed


def test_agent_name_and_hub(tmp_path: Path) -> None:
    printed = _install(tmp_path, "window", name="window3", hub="http://10.0.0.2:8080/")
    cfg = load_agent_config(tmp_path / "etc/onestop/agent-window3.toml")
    assert cfg.name == "window3" and cfg.hub == "http://10.0.0.2:8080"
    assert cfg.buses[0].port.startswith("/dev/serial/by-id/")
    assert "onestop token add --role agent --name window3" in printed
    assert "systemctl enable --now onestop-agent@window3.service" in printed


def test_a_second_install_keeps_the_operators_config(tmp_path: Path) -> None:
    _install(tmp_path, "kiosk")
    env = tmp_path / "etc/onestop/browser-kiosk.env"
    env.write_text('ONESTOP_URL="http://hub:8080/kiosk/?token=osk_real"\n')
    unit = tmp_path / "etc/systemd/system/onestop-browser@.service"
    unit.write_text("old\n")
    printed = _install(tmp_path, "kiosk")
    assert "osk_real" in env.read_text() and _mode(env) == 0o600
    assert f"kept {env} (exists)" in printed
    assert unit.read_bytes() == (UNITS_DIR / unit.name).read_bytes()  # units are ours


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    out = io.StringIO()
    install("hub", root=tmp_path, dry_run=True, out=out, run=_never)
    assert not any(tmp_path.iterdir())
    assert f"write {tmp_path}/etc/onestop/hall.toml (644)" in out.getvalue()


def test_unknown_role(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown role"):
        install("printer", root=tmp_path, out=io.StringIO())


def test_the_cli_command(tmp_path: Path, capsys) -> None:
    from hub.cli import main

    assert main(["install", "--role", "screen", "--root", str(tmp_path)]) == 0
    assert _files(tmp_path) == EXPECTED["screen"]
    assert "would run: systemctl daemon-reload" in capsys.readouterr().out


def test_a_pair_of_hubs_is_set_up_in_hub_env(monkeypatch) -> None:
    """The hub unit runs `onestop hub` with fixed arguments: a pair's store, message queue and
    proxy come from /etc/onestop/hub.env (ONESTOP_DB, ONESTOP_MESSAGE_QUEUE,
    ONESTOP_PROXY_HOPS), which `install --role hub` writes, commented out."""
    from hub.cli import build_parser
    from hub.install import HUB_ENV

    for name in ("ONESTOP_DB", "ONESTOP_MESSAGE_QUEUE", "ONESTOP_PROXY_HOPS"):
        assert f"# {name}=" in HUB_ENV
    monkeypatch.setenv("ONESTOP_DB", "postgresql://onestop@db-host/onestop")
    monkeypatch.setenv("ONESTOP_MESSAGE_QUEUE", "redis://redis-host:6379/0")
    monkeypatch.setenv("ONESTOP_PROXY_HOPS", "1")
    args = build_parser().parse_args(["hub", "--config", "hall.toml"])
    assert (args.db, args.message_queue, args.proxy_hops) == (
        "postgresql://onestop@db-host/onestop", "redis://redis-host:6379/0", 1)
    monkeypatch.delenv("ONESTOP_MESSAGE_QUEUE")
    monkeypatch.delenv("ONESTOP_PROXY_HOPS")
    args = build_parser().parse_args(["hub", "--config", "hall.toml"])
    assert (args.message_queue, args.proxy_hops) == (None, 0)


def test_a_kiosk_for_an_https_hub_pins_and_trusts_the_hall_ca(tmp_path: Path) -> None:
    from hub.install import CA_NICKNAME

    ca = tmp_path / "hall-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n")
    root = tmp_path / "root"
    printed = _install(root, "kiosk", hub="https://hub.local:8080", ca=str(ca))
    assert (root / "etc/onestop/ca.pem").read_text() == ca.read_text()
    assert _mode(root / "etc/onestop/ca.pem") == 0o644
    assert 'ca_file = "/etc/onestop/ca.pem"' in (root / "etc/onestop/agent-kiosk.toml").read_text()
    assert "https://hub.local:8080/kiosk/" in (root / "etc/onestop/browser-kiosk.env").read_text()
    nssdb = "sql:/var/lib/onestop/browser-kiosk/.pki/nssdb"
    assert (f"would run: certutil -d {nssdb} -A -t C,, -n {CA_NICKNAME} -i /etc/onestop/ca.pem"
            in printed)
    assert _mode(root / "var/lib/onestop/browser-kiosk/.pki/nssdb") == 0o700
    with pytest.raises(ValueError, match="--ca"):
        _install(tmp_path / "r2", "screen", hub="https://hub.local:8080")


@pytest.mark.parametrize("role", ["window", "audio", "kiosk"])
def test_an_agents_printed_token_is_bound_to_what_its_agent_toml_declares(tmp_path: Path,
                                                                          role: str) -> None:
    """Least privilege as shipped: the token the steps make is bound, to exactly the kiosk and
    windows the installed agent.toml declares (so the agent connects, and nothing more)."""
    import shlex

    from hub.cli import build_parser
    from hub.cli.accounts import parse_binding

    printed = _install(tmp_path, role)
    line = next(line for line in printed.splitlines() if "onestop token add --role agent" in line)
    args = build_parser().parse_args(shlex.split(line[line.index("token add"):]))
    binding = parse_binding(args)
    assert binding is not None, line
    env = (tmp_path / f"etc/onestop/agent-{role}.env").read_text()
    assert shlex.join(["--role", "agent", "--name", role]) in env and \
        line[line.index("--role"):].removesuffix(" --data /var/lib/onestop") in env
    cfg = load_agent_config(tmp_path / f"etc/onestop/agent-{role}.toml")
    windows = {d.window for bus in cfg.buses for d in bus.devices} | \
        {k.window for k in cfg.keypads} | set(cfg.printer.windows if cfg.printer else [])
    assert binding.kiosks == ((cfg.kiosk,) if cfg.kiosk else ())
    assert set(binding.windows) == windows
