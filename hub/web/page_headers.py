"""The headers every page of the hub is served with: one policy, set in one place.

Pages load only this hub's own scripts, styles and sockets (a closed network: nothing from
outside), and a page's URL may carry a device token (`?token=`), so it is never sent on as a
referrer.
"""

from __future__ import annotations

from flask import Blueprint, Response

_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; "
           "img-src 'self' data:")


def secure_pages(pages: Blueprint, *, media: bool = False, framed: bool = False,
                 cache: bool = False) -> None:
    """Serve `pages` with the hub's content policy. `media`: it plays its own audio files;
    `framed`: it may be shown inside another page (call screens); `cache`: it may be cached
    (otherwise no-store: staff and kiosk pages must never come back from a browser cache)."""
    policy = _POLICY + ("; media-src 'self'" if media else "") + (
        "" if framed else "; frame-ancestors 'none'")

    @pages.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", policy)
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        if not cache:
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp
