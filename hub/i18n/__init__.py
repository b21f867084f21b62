"""User-facing text from gettext catalogs: refusals, pages, printed tickets, voice and alerts.

Every sentence a citizen, a clerk or the office reads or hears is a message of the `onestop`
domain in `hub/locale/<lang>/LC_MESSAGES/onestop.po` (Babel's PO reader, loaded at start: no
compile step). A message id is a stable dotted key (`error.window_taken`, `kiosk.ticket.ahead`);
`zh_CN` is the source language, `en` the hall's second one by default, and a hall adds a language
with one more `.po` file (docs/i18n.md). Text has named placeholders (`{window}`) that the caller
passes by name; which names a message may use is what its callers pass (hub/i18n/extract.py
records them in the template, tests/test_i18n.py holds every catalog to them).
"""

from .catalog import (
    DEFAULT_LANGUAGES,
    LOCALE_DIR,
    N_,
    SOURCE,
    Catalogs,
    Listed,
    Msg,
    Texts,
    catalogs,
    default_texts,
    placeholders,
)

__all__ = [
    "DEFAULT_LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "SOURCE",
    "Catalogs",
    "Listed",
    "Msg",
    "Texts",
    "catalogs",
    "default_texts",
    "placeholders",
]
