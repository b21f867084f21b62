"""The headers every page of the hub is served with: one policy, set in one place.

Pages load only this hub's own scripts, styles and sockets (a closed network: nothing from
outside), and a page's URL may still carry a device token (`?token=`, deprecated: screens and
kiosks are paired and keep their token in the page's storage), so it is never sent on as a
referrer. Images may come from blob: URLs: the window screen fetches the badge photo with its
token in a header and shows it from one. A script a page carries inline (to start before its
files are fetched) is allowed by its SHA-256 alone, never by 'unsafe-inline'.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, request
from markupsafe import Markup

log = logging.getLogger(__name__)

_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; "
           "img-src 'self' data: blob:")


@dataclass(frozen=True)
class InlineScript:
    """A script file a page carries in its HTML (`text`, put between <script> tags as it is),
    allowed by the content policy through its hash (`source`)."""

    text: Markup
    source: str  # 'sha256-…', for script-src

    @classmethod
    def read(cls, path: Path) -> InlineScript:
        text = path.read_text(encoding="utf-8")
        if "</script" in text.lower():
            raise ValueError(f"{path}: an inline script cannot contain </script>")
        digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
        return cls(Markup(text), f"'sha256-{digest}'")


def secure_pages(pages: Blueprint, *, media: bool = False, framed: bool = False,
                 cache: bool = False, inline: Sequence[InlineScript] = ()) -> None:
    """Serve `pages` with the hub's content policy. `media`: it plays its own audio files;
    `framed`: it may be shown inside another page (call screens); `cache`: it may be cached
    (otherwise no-store: staff and kiosk pages must never come back from a browser cache);
    `inline`: the scripts its pages carry inline."""
    policy = _POLICY.replace("script-src 'self'",
                             " ".join(["script-src 'self'", *(s.source for s in inline)]))
    policy += ("; media-src 'self'" if media else "") + (
        "" if framed else "; frame-ancestors 'none'")

    @pages.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", policy)
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        if not cache:
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp


def token_in_address(page: str) -> str | None:
    """The `?token=` of a device page opened the old way, with a warning in the hub's log (the
    token's value never): it works for one more release, then pages only pair."""
    token = request.args.get("token")
    if token:
        log.warning("%s opened from %s with ?token= in its address: deprecated, pair the "
                    "device instead (the page moves the token into its storage)", page,
                    request.remote_addr)
    return token
