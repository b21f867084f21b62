"""`onestop simulate`: a hall's day run end to end with every process real — the hub, the
forwarder, a device agent with simulated keypads, LED screens and the kiosk's printer on ptys, a
supervision backend — driven at a chosen speed through the hub's set clock (hub/clock.py), with
faults on a schedule, and checked at the end.

Orchestration only: processes are started as a hall starts them (`onestop hub`, `onestop agent`,
`onestop forward`), and everything is done to them over their own interfaces (Socket.IO, HTTP,
the devices' bytes, signals). Nothing here is imported by the hub.
"""
