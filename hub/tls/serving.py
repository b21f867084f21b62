"""The hub's side of TLS: its server context, the plain-HTTP port that only redirects, the
HSTS header, and when its certificate runs out (watched by the supervision rules).

Plain HTTP on the TLS port is refused (the handshake fails, the connection closes): a page
or agent that still asks for http:// learns it at once rather than sending a password in
clear. `--http-redirect-port` adds a listener that answers every plain request with 308 to the
same path over HTTPS and serves nothing else, so a bookmarked http:// address still lands.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .ca import not_after

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 10.0  # a client that connects and says nothing holds a green thread no longer
# A year, the usual; no includeSubDomains: a hall's names are its own, not a public domain's.
HSTS = "max-age=31536000"


@dataclass(frozen=True)
class ServerTLS:
    cert: Path
    key: Path

    def context(self, context_class: type[ssl.SSLContext] | None = None) -> ssl.SSLContext:
        """TLS 1.2 or later with the certificate and key; the class may be eventlet's green
        one (its sockets yield to other green threads while they wait)."""
        ctx = (context_class or ssl.SSLContext)(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(str(self.cert), str(self.key))
        except (OSError, ssl.SSLError) as err:
            raise OSError(f"cannot use the TLS certificate {self.cert} with key {self.key}: "
                          f"{err}") from err
        return ctx

    def expires(self) -> Any:  # dt.datetime
        return not_after(self.cert)


def redirect_app(https_port: int) -> Callable[[dict, Callable], Iterable[bytes]]:
    """A WSGI app that sends every request to the same host and path over HTTPS (308 keeps
    the method and body, so a POST is not silently turned into a GET)."""

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        path = environ.get("PATH_INFO", "/") or "/"
        query = environ.get("QUERY_STRING", "")
        port = "" if https_port == 443 else f":{https_port}"
        target = f"https://{name}{port}{path}" + (f"?{query}" if query else "")
        start_response("308 Permanent Redirect", [("Location", target),
                                                  ("Content-Length", "0")])
        return [b""]

    return app


def quiet_handshake(protocol: type) -> type:
    """eventlet's HttpProtocol with the TLS handshake done first, within HANDSHAKE_TIMEOUT_S:
    a client that fails it (plain HTTP on the TLS port, a wrong or missing CA, a port scan) is
    one line in the log and a closed connection, not a traceback from deep inside eventlet."""

    class QuietHandshake(protocol):
        def handle(self) -> None:
            conn = self.connection
            keep_alive_timeout = conn.gettimeout()  # the server's socket_timeout
            try:
                conn.settimeout(HANDSHAKE_TIMEOUT_S)
                conn.do_handshake()
                conn.settimeout(keep_alive_timeout)
            except (ssl.SSLError, OSError) as err:
                log.warning("TLS handshake with %s refused: %s", self.client_address[0],
                            getattr(err, "reason", None) or err)
                self.close_connection = True
                return
            super().handle()

    return QuietHandshake


def add_hsts(app: Any) -> None:
    """Strict-Transport-Security on every answer given over HTTPS: a browser that has seen
    it once never tries the hub in clear again (not on plain answers: the header only counts
    over TLS)."""
    from flask import Response, request  # noqa: PLC0415 (imported by the hub, after patching)

    @app.after_request
    def _hsts(resp: Response) -> Response:
        if request.is_secure:
            resp.headers.setdefault("Strict-Transport-Security", HSTS)
        return resp
