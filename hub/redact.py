"""Secrets kept out of every log line the hub and its tools write.

A device page opened the deprecated way (`/display/hall?token=…`) puts its token in the request
line, and Werkzeug's request log (threading mode) or any other library's debug line would write
it out as it came. The filter here sits on the handler `configure_logging` installs, so every
record of every logger passes it: a `token=`, `secret=` or `password=` parameter and any bearer
token of ours (`os?_` + 43 characters, hub/auth.py) are replaced before the line is formatted.
So is the capability in a citizen's phone link (`/t/<cap>`, `/s/<cap>`,
`/api/v1/citizen/<cap>`: hub/service/citizen.py), which opens a ticket's page to whoever has it.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# `token=…` in a query string or a form, up to the next separator; `secret` is the pairing
# secret a waiting page holds (hub/service/pairing.py).
_PARAM = re.compile(r"(?i)\b(token|secret|password|passwd)=[^&\s\"'#]+")
# Our bearer tokens wherever they turn up (a header echoed, a traceback's locals).
_TOKEN = re.compile(r"\bos[kdacvmp]_[A-Za-z0-9_-]{20,}")
# A phone link's capability in a path (22 URL-safe characters; anything long enough to be one).
_LINK = re.compile(r"(/(?:t|s)/|/api/v1/citizen/(?:slip/)?)[A-Za-z0-9_-]{8,}")


def redact(text: str) -> str:
    """`text` with every secret parameter and bearer token of ours replaced."""
    if "/" in text:
        text = _LINK.sub(rf"\1{REDACTED}", text)
    if "=" not in text and "os" not in text:
        return text
    return _TOKEN.sub(REDACTED, _PARAM.sub(rf"\1={REDACTED}", text))


class RedactSecrets(logging.Filter):
    """Formats the record's message once, redacted; the handler then formats it as usual."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format: let the handler report it as it would
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:  # the formatter uses exc_text when set
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
