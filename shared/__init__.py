"""What every page of the hub shares: the base template, the sign-in card, the JavaScript modules
(the staff session, the Socket.IO connection, the hub's clock, the catalogue, times in the hall's
zone) and the vendored Socket.IO client, served from one static folder, `/shared/static/`, so
that the call screens, the kiosk, the clerk's pages and the office's pages import the same
files."""
