"""The citizen's own phone (扫码查看): the page the ticket's QR code opens, `/t/<capability>`.

Plain HTML, CSS and one classic script in ES2017 (an old Android browser: no modules, no `?.`,
no `??`) served from this package and `shared/` (nothing from outside). The page follows one
ticket: its number and item, the people ahead and the wait, the windows and where they are, the
materials as a checklist, a full-screen alert when it is called, then 好差评 and a complaint. Live
over the `/citizen` Socket.IO namespace with the capability; a GET of the citizen view every 30 s
when sockets are not to be had.
"""
