"""The pages' shared files as a blueprint of the hub: `/shared/static/...` (no page of its own).

One static folder for what several pages load, so that no page's package serves another's
scripts: a page's own module imports `/shared/static/staff.js` and the like by URL, as the
browser resolves ES module imports, with no build step. Nothing personal is in these files; as
all of the hub's static files, they are served `no-cache` (a browser asks again each load and
gets a 304 while they are unchanged), so after an upgrade no page runs a new module of its own
beside an old shared one.
"""

from __future__ import annotations

from flask import Blueprint

from hub.web.page_headers import secure_pages

pages = Blueprint(
    "shared",
    __name__,
    url_prefix="/shared",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

secure_pages(pages, cache=True)
