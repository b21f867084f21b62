"""The clients' side: every client of the hub (device agents, `onestop` commands, the
benchmarks) verifies it against the hall's CA, pinned in its own config, never the system's
store (hub/tls/__init__.py says why)."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

from . import CA_ENV


def pinned_ca(configured: str = "") -> str:
    """The hall CA file a client pins: its config's, else ONESTOP_CA_FILE; "" if neither."""
    return configured or os.environ.get(CA_ENV, "")


def check_hub_url(url: str, ca_file: str) -> str:
    """What is wrong with reaching the hub at `url` with `ca_file` ("" if nothing): https
    needs the hall's CA, and the CA file must be there to read."""
    if url.startswith("https://") and not ca_file:
        return ("the hub is https://: set ca_file to the hall's CA (ca.pem from onestop ca "
                f"init) or {CA_ENV}")
    if ca_file and not Path(ca_file).is_file():
        return f"the hall's CA {ca_file} is not a readable file"
    return ""


def verify_for(url: str, ca_file: str) -> str | bool:
    """What a requests session's `verify` is for `url`: the pinned CA for https (refusing a
    certificate any other CA issued, even a public one), True (unused) for plain http."""
    return ca_file if url.startswith("https://") and ca_file else True


def ssl_context(ca_file: str) -> ssl.SSLContext:
    """A client context that trusts only the hall's CA (for urllib)."""
    return ssl.create_default_context(cafile=ca_file)


def handshake_problem(url: str, ca_file: str, timeout_s: float = 3.0) -> str:
    """Why a TLS connection to `url` fails with the pinned CA ("" if it does not, or the URL is
    not https): engineio reports every failure as "Connection error", and an installer must
    tell a wrong CA from a hub that is down."""
    import socket  # noqa: PLC0415 (only on a failed connect)
    from urllib.parse import urlsplit  # noqa: PLC0415

    parts = urlsplit(url)
    if parts.scheme != "https" or not ca_file or not parts.hostname:
        return ""
    try:
        context = ssl_context(ca_file)
        with socket.create_connection((parts.hostname, parts.port or 443), timeout_s) as raw, \
                context.wrap_socket(raw, server_hostname=parts.hostname):
            return ""
    except ssl.SSLCertVerificationError as err:
        return f"the hub's certificate is not trusted by {ca_file}: {err.verify_message}"
    except (ssl.SSLError, OSError) as err:
        return str(err)
