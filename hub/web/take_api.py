"""扫码取号 over HTTP: a phone takes a ticket from the hall's poster (public: the poster's secret
of the day and the hall's limits are its authorization), and the office gets today's poster;
and a 承诺单's view on the phone (its capability the only credential). The public routes are
limited per address as every route of the phone is (hub/web/citizen_api.py `limited`).

The QR code is made here, at the edge, as an SVG document (the `qrcode` package): the office's
poster page prints it, and nothing is loaded from outside.
"""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from flask import Blueprint, jsonify, request

from hub import shapes
from hub.engine import NotFound
from hub.i18n import N_
from hub.service import HallService

from .api import body, client_addr, service, who
from .citizen_api import limited
from .operations import READ, documented

take_api = Blueprint("take_api", __name__, url_prefix="/api/v1")


@take_api.url_value_preprocessor
def _bounded_path(_endpoint: str | None, values: dict | None) -> None:
    if values:
        shapes.path(values)


def citizen_base() -> str:
    """Where phones reach the hub: `[citizen] base_url`, or the hub's own URL as this request
    saw it (the office prints the poster from a PC on the hall's network)."""
    return service().citizen.base_url(request.host_url)


def poster_url(secret: str) -> str:
    return f"{citizen_base()}/q/{secret}"


def qr_svg(text: str) -> str:
    """`text` as a QR code, an SVG document of paths (no style attribute: the pages' policy
    allows only the hub's own stylesheets); medium error correction survives a creased poster."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text)
    image = code.make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


@take_api.post("/citizen/take")
@documented(shapes.TakenTicket, 404, 409, 413, 422, 429, ok=201, body=shapes.TakeRequest,
            auth=False)
@limited
def take():
    """扫码取号: take a ticket on a phone from today's poster, with the kiosk's rules (hours,
    quota, suspension: 409) and the day's limits per device and per network address (429,
    Retry-After: seconds until the hall's midnight). 404 `unknown_poster`: not today's poster"""
    data = body(shapes.TakeRequest)
    ticket = service().takes.take(data.poster, data.service, data.device, client_addr(),
                                  request.host_url)
    return jsonify({
        "number": ticket["number"], "service": ticket["service"],
        "service_name": ticket["service_name"], "service_name_en": ticket["service_name_en"],
        "people_ahead": ticket["people_ahead"],
        "estimated_wait_minutes": ticket["estimated_wait_minutes"],
        "link": ticket.get("link"),
    }), 201


def slip_number(hall: HallService, cap: str) -> str:
    """The slip `cap` opens; NotFound `unknown_link` otherwise (a ticket's capability too)."""
    kind, ref = hall.citizen_link(cap)
    if kind != "slip":
        raise NotFound("unknown_link", N_("error.unknown_link"))
    return ref


@take_api.get("/citizen/slip/<cap>")
@documented(shapes.SlipForPhone, 404, 413, 422, 429, auth=False)
@limited
def slip(cap: str):
    """A 承诺单 on the citizen's phone (the printed slip's QR): status, promised date, each
    department's part of a 联办件, what to bring and where and when to collect; nothing
    personal. 404 `unknown_link` for a forged, expired or unknown capability, or a ticket's"""
    hall = service()
    return jsonify(hall.slip_for_phone.view(slip_number(hall, cap)))


@take_api.get("/poster")
@documented(shapes.PosterLink, *READ)
def poster():
    """Today's 扫码取号 poster: the URL its QR code holds (it changes at the hall's midnight),
    the hall day, and the QR code as SVG (supervisor, admin)"""
    day, secret = service().takes.poster_of_today(who())
    url = poster_url(secret)
    return jsonify({"url": url, "day": day.isoformat(), "svg": qr_svg(url)})
