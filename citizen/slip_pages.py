"""A 承诺单 on the citizen's phone: `/s/<capability>`, what the printed slip's QR code opens.

The capability names one slip (HallService.citizen_link); the page is the slip's view
(hub/service/slip_phone.py) rendered on the hub, so it reads without a script. A forged,
expired or unknown capability, or a ticket's: one refusal (404), the same for each. The page
has no script at all: any phone's browser reads it.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from hub.engine import DomainError
from hub.i18n import N_
from hub.service import HallService
from hub.web.page_headers import secure_pages
from hub.web.take_api import slip_number

from .pages import limited_page
from .take_pages import STRINGS, _center, refused

pages = Blueprint("slip_page", __name__, url_prefix="/s", template_folder="templates")


@pages.get("/<cap>")
@limited_page
def slip_page(cap: str):
    service: HallService = current_app.extensions["onestop"]
    try:
        view = service.slip_for_phone.view(slip_number(service, cap))
    except DomainError as err:
        return refused(service, err, N_("slip_phone.title"), N_("slip_phone.unknown_hint"))
    return render_template("citizen/slip.html", catalogue=_center(service),
                           strings_for=STRINGS, slip=view)


secure_pages(pages)
