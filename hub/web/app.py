"""The Flask application factory: HTTP API, Socket.IO namespaces and housekeeping tasks."""

from __future__ import annotations

import logging
import os

from flask import Flask, current_app
from flask_socketio import SocketIO
from werkzeug.middleware.proxy_fix import ProxyFix

from caller.pages import pages as caller_pages
from citizen.pages import pages as citizen_pages
from citizen.slip_pages import pages as slip_pages
from citizen.take_pages import pages as take_pages
from display.pages import pages as display_pages
from hub import shapes
from hub.service import HallService
from kiosk.pages import pages as kiosk_pages
from office.pages import pages as office_pages
from shared.pages import pages as shared_pages

from . import errors, metrics, operations, packets, sockets
from .admin_api import admin_api
from .api import api
from .casework_api import casework_api
from .citizen_api import citizen_api
from .message_queue import BatchingRedisManager
from .operations import documented, reply
from .pairing_api import pairing_api
from .spot_api import spot_api
from .take_api import take_api

log = logging.getLogger(__name__)

# How often housekeeping runs (ratings, alerts, the day's end). ONESTOP_TICK_S shortens it for
# tests that wait for an alert; a hall has no reason to change it.
TICK_INTERVAL_S = float(os.environ.get("ONESTOP_TICK_S") or 15.0)
# The rating timer looks for a new next deadline at least this often, and sleeps exactly until
# one that is nearer; it wakes this much after it, so the deadline has passed (`now > deadline`).
RATING_LOOK_S = 1.0
RATING_LATE_S = 0.01


def create_app(
    service: HallService, async_mode: str | None = None, message_queue: str | None = None,
    proxy_hops: int = 0,
) -> tuple[Flask, SocketIO]:
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese stays readable
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.extensions["onestop"] = service
    errors.install(app)
    operations.check_answers(app)  # every JSON answer against its documented shape
    add_routes(app)

    queue = {}
    if message_queue:  # several hubs: one Redis message per commit (message_queue.py)
        queue = {"client_manager": BatchingRedisManager(message_queue)}
    socketio = SocketIO(app, async_mode=async_mode, logger=False, engineio_logger=False, **queue)
    packets.guard(socketio.server)  # a malformed packet: refused and answered, no traceback
    if proxy_hops:
        # Behind nginx every client would be 127.0.0.1: one client's wrong passwords would
        # lock the whole hall out of signing in, and the audit log would name the proxy.
        # Outermost, so the Socket.IO middleware sees the fixed address too.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxy_hops)  # type: ignore[method-assign]
    app.extensions["onestop_sweep"] = sockets.register(socketio, service, app.extensions)
    metrics.install(app, lambda: _connected(socketio), service.forwarding_status)  # /metrics
    return app, socketio


def add_routes(app: Flask) -> None:
    """Every route the hub serves: the API, the pages, health and metrics."""
    app.register_blueprint(api)
    app.register_blueprint(admin_api)  # /api/v1/admin/config: the hall file
    app.register_blueprint(pairing_api)  # /api/v1/pairing: screens and kiosks paired
    app.register_blueprint(casework_api)  # /api/v1/cases, /complaints, /my/cases: 督办工单
    app.register_blueprint(citizen_api)  # /api/v1/citizen/<cap>: the citizen's phone
    app.register_blueprint(spot_api)  # /api/v1/spot-checks, /api/v1/staff: 办件抽查, 效能告诫
    app.register_blueprint(take_api)  # /api/v1/citizen/take, /api/v1/poster: 扫码取号
    app.register_blueprint(take_pages)  # /q/<poster>: 扫码取号 on a phone
    app.register_blueprint(slip_pages)  # /s/<cap>: a 承诺单 on the citizen's phone
    app.register_blueprint(display_pages)  # the call screens: /display/hall, /display/window/<no>
    app.register_blueprint(caller_pages)  # the clerk's panel: /caller/
    app.register_blueprint(kiosk_pages)  # the ticket kiosk's touchscreen: /kiosk/
    app.register_blueprint(office_pages)  # the office: /office/, /office/reports, /office/admin
    app.register_blueprint(citizen_pages)  # the ticket's phone page: /t/<cap>
    app.register_blueprint(shared_pages)  # what the pages share: /shared/static/ (JS modules, base)
    app.register_blueprint(metrics.metrics)  # /metrics
    app.add_url_rule("/healthz", view_func=healthz)


def routes_app() -> Flask:
    """The hub's routes without a hall behind them: what the OpenAPI document is made from
    when no hub runs (tests, tools)."""
    app = Flask(__name__)
    add_routes(app)
    return app


@documented(shapes.Liveness, auth=False, tag="operations")
def healthz():
    """Liveness, the last committed event and the hall file's hash"""
    service: HallService = current_app.extensions["onestop"]
    return reply(shapes.Liveness(
        status="ok", seq=service.applied_seq(), day=service.current_day(),
        config=service.config_hash))  # the running hall file's hash (onestop reload)


def _connected(socketio: SocketIO) -> dict[str, int]:
    """Connected clients per namespace (each role's namespace keeps its authenticated sids)."""
    handlers = socketio.server.namespace_handlers if socketio.server else {}
    return {ns: len(getattr(h, "clients", {})) for ns, h in handlers.items()}


def start_housekeeping(app: Flask, socketio: SocketIO, service: HallService) -> None:
    """Roll the day over at midnight even when the hall is silent, end ratings nobody gave, and
    drop sockets whose session expired or whose token was revoked."""
    sweep = app.extensions["onestop_sweep"]

    def loop() -> None:
        while True:
            socketio.sleep(TICK_INTERVAL_S)
            try:
                service.tick()
                service.publish_audit_head()  # once a day: the feed's copy of the audit head
                sweep()
            except Exception:
                log.exception("housekeeping tick failed")

    socketio.start_background_task(loop)
    socketio.start_background_task(_rating_timer, socketio, service)


def _rating_timer(socketio: SocketIO, service: HallService) -> None:
    """End each rating the hub ends itself (no keypad at its window) at its deadline, not at
    the next tick: sleep until the next deadline (never more than RATING_LOOK_S, to notice a
    new, nearer one), on the server's own sleep so the event loop never blocks."""
    while True:
        try:
            due = service.next_rating_deadline()
            if due is not None and due < service.clock():
                service.expire_ratings()
                if service.next_rating_deadline() == due:  # not ended: never spin on it
                    log.warning("rating due at %s did not end", due)
                    due = None
                else:
                    due = service.next_rating_deadline()
        except Exception:
            log.exception("rating timer failed")
            due = None
        wait = RATING_LOOK_S
        if due is not None:
            wait = min(wait, max(0.0, (due - service.clock()).total_seconds()) + RATING_LATE_S)
        socketio.sleep(wait)

