"""The ticket kiosk (取号机): a touchscreen page for the public in the hall, `/kiosk/`.

Plain HTML, CSS and JS (ES modules: static/kiosk.js and its parts in static/kiosk/) served from
this package and `shared/` (nothing from outside): the items with their
six public disclosures and the materials told once, tickets for an item, the green channel and
appointment check-in, commitment-slip tracking and complaints, over the `/kiosk` Socket.IO
namespace with the kiosk's device token from the page's address (`?token=...`).
"""
