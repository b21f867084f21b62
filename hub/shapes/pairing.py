"""The shapes of pairing a screen or a kiosk (hub/service/pairing.py): what a waiting page and
the office send, and what they are answered."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from .base import Code, Secret, Shape
from .responses import Answer, Time

PairedRole = Literal["screen", "kiosk"]
DeviceName = Annotated[str, Meta(min_length=1, max_length=64,
                                 description="the device's name, as `onestop token` names it")]

# --- what is sent ---------------------------------------------------------------------------


class PairingAsk(Shape):
    """A page without a token asks to be paired."""

    kind: PairedRole
    page: Annotated[str, Meta(max_length=200, description="the page's path, for the office")] = ""


class PairingClaim(Shape):
    """A waiting page asks what became of its request, with the secret it was given."""

    secret: Secret


class PairingApproval(Shape):
    """The office approves the code read off a device as a screen or kiosk named `name`."""

    code: Code
    role: PairedRole
    name: DeviceName


# --- what is answered -----------------------------------------------------------------------


class PairingOpened(Answer):
    """A new request: the code to show, the secret to poll with (kept by the page alone)."""

    code: Annotated[str, Meta(description="8 characters for people to read and type")]
    secret: Annotated[str, Meta(description="the page's own: never shown, never in an address")]
    kind: PairedRole
    expires_in_s: int
    poll_s: int


class PairingWaiting(Answer):
    status: Literal["waiting"]
    expires_in_s: int


class PairingPaired(Answer):
    """Approved: the device's token, handed out this once."""

    status: Literal["paired"]
    token: str
    role: PairedRole
    name: str


class PairingListed(Answer):
    code: str
    kind: PairedRole
    page: str
    addr: str
    created_at: Time
    expires_in_s: int
    approved: bool
    name: str


class PairingList(Answer):
    requests: list[PairingListed]


class PairingApproved(Answer):
    code: str
    role: PairedRole
    name: str
    page: str
    addr: str
