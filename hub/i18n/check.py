"""Checks the catalogs against the template: `python -m hub.i18n.check [LOCALE_DIR]`.

The template (hub/locale/onestop.pot, made by `pybabel extract -F babel.cfg`) lists every key the
code uses, each with the parameters its callers pass (`#. params: a, b`). A catalog passes when it
has every key, no key the code no longer uses, and uses no placeholder its callers do not pass
(a `{name}` nobody passes would be shown as written). A hall runs this on a new language's file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from .catalog import DOMAIN, LOCALE_DIR, placeholders, read_catalog

_PARAMS = re.compile(r"^params: (.*)$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def template(path: Path) -> dict[str, set[str] | None]:
    """key -> the parameters every caller passes (None: some caller passes a mapping)."""
    with path.open("rb") as f:
        pot = read_po(f, domain=DOMAIN)
    keys: dict[str, set[str] | None] = {}
    for m in pot:
        if not m.id or not isinstance(m.id, str):
            continue
        passed: set[str] | None = None
        for comment in m.auto_comments:
            found = _PARAMS.match(comment)
            if not found or found.group(1) == "*":
                continue
            names = set() if found.group(1) == "-" else set(found.group(1).split(", "))
            passed = names if passed is None else passed & names  # what every caller passes
        keys[m.id] = passed
    return keys


def problems(directory: Path = LOCALE_DIR) -> list[str]:
    """What is wrong with the catalogs in `directory`, one line each (none: all good)."""
    keys = template(directory / f"{DOMAIN}.pot")
    found: list[str] = []
    catalogs = sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    if not catalogs:
        return [f"{directory}: no catalogs"]
    for path in catalogs:
        lang = path.parent.parent.name
        texts = read_catalog(path)
        found += [f"{lang}: {key}: missing" for key in sorted(keys.keys() - texts.keys())]
        found += [f"{lang}: {key}: not used by the code" for key in sorted(texts.keys() - keys)]
        for key, text in sorted(texts.items()):
            try:
                names = placeholders(text)
            except ValueError as err:
                found.append(f"{lang}: {key}: {err}")
                continue
            bad = sorted(n for n in names if not _NAME.match(n))
            passed = keys.get(key)
            extra = sorted(names - passed) if passed is not None else []
            if bad:
                found.append(f"{lang}: {key}: a placeholder is a plain name: {', '.join(bad)}")
            elif extra:
                found.append(f"{lang}: {key}: placeholders its callers do not pass: "
                             + ", ".join(extra))
    return found


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else LOCALE_DIR
    found = problems(directory)
    for line in found:
        print(line)
    print(f"{len(found)} problem(s)" if found else "catalogs complete")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
