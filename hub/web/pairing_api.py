"""Pairing screens and kiosks over HTTP (hub/service/pairing.py).

    POST /api/v1/pairing           {kind, page} -> a code to show and a secret (no token needed)
    POST /api/v1/pairing/claim     {secret} -> waiting, or paired with the device's token
    GET  /api/v1/pairing/requests  the requests waiting (office)
    POST /api/v1/pairing/approve   {code, role, name} (office; audited)

The secret travels in a body, never in an address: claiming is a POST.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from hub import shapes
from hub.auth import Role

from .api import body, client_addr, service, who
from .operations import READ, WRITE, documented

pairing_api = Blueprint("pairing_api", __name__, url_prefix="/api/v1/pairing")


@pairing_api.post("")
@documented(shapes.PairingOpened, 413, 422, 429, ok=201, body=shapes.PairingAsk, auth=False)
def open_request():
    """A screen or kiosk page without a token asks to be paired: the code it shows and the
    secret it claims its token with (a few waiting per address, and in the hall)"""
    data = body(shapes.PairingAsk)
    opened = service().pairing.open_request(Role(data.kind), data.page, client_addr())
    return jsonify(opened), 201


@pairing_api.post("/claim")
@documented((shapes.PairingWaiting, shapes.PairingPaired), 404, 413, 422,
            body=shapes.PairingClaim, auth=False)
def claim():
    """A waiting page asks, with its secret, whether it was approved: then it gets its device
    token, this once (404: expired or unknown, ask again)"""
    return jsonify(service().pairing.claim(body(shapes.PairingClaim).secret))


@pairing_api.get("/requests")
@documented(shapes.PairingList, *READ)
def waiting():
    """The pairing requests waiting for the office's approval"""
    return jsonify({"requests": service().pairing.waiting(who())})


@pairing_api.post("/approve")
@documented(shapes.PairingApproved, *WRITE, 404, 409, body=shapes.PairingApproval)
def approve():
    """Approve a pairing code read off a device as a screen or kiosk with a name (supervisor,
    admin; audited): 409 when the page asked for the other role"""
    principal = who()
    data = body(shapes.PairingApproval)
    return jsonify(service().pairing.approve(principal, data.code, Role(data.role), data.name,
                                             client_addr()))
