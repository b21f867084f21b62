"""The pages' shared files as a blueprint of the hub: `/shared/static/...` (no page of its own).

One static folder for what several pages load, so that no page's package serves another's
scripts: a page's own module imports `/shared/static/staff.js` and the like by URL, as the
browser resolves ES module imports, with no build step. Nothing personal is in these files; as
all of the hub's static files, they are served `no-cache` (a browser asks again each load and
gets a 304 while they are unchanged), so after an upgrade no page runs a new module of its own
beside an old shared one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint

from hub.i18n import default_texts
from hub.web.page_headers import secure_pages

pages = Blueprint(
    "shared",
    __name__,
    url_prefix="/shared",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)



# Every page template says its texts from the catalogs (docs/i18n.md), also in the macros it
# imports (hence globals, not a context processor): `t(key, **params)` in the hall's first
# language, `t2(...)` in its second, and `page_strings(prefixes)`: the texts its scripts say
# (`strings_for`, the key prefixes its base template sets) for shared/static/i18n.js.


@pages.app_template_global("t")
def first(key: str, /, **params: Any) -> str:
    return default_texts().t(key, **params)


@pages.app_template_global("t2")
def second(key: str, /, **params: Any) -> str:
    return default_texts().each(key, **params)[1]


@pages.app_template_global()
def page_strings(prefixes: Iterable[str]) -> dict[str, Any]:
    hall = default_texts()
    return {"languages": list(hall.languages), "texts": hall.table(prefixes)}


secure_pages(pages, cache=True)
