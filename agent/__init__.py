"""The device agent: the process on a window, kiosk or hall Pi that bridges hub and hardware.

It is a Socket.IO client of the hub's `/device` namespace. Hub events become device commands
(a rating request lights the keypad, a call updates the LED screen); device events (keys, rating
presses) go to the hub through a durable outbox, so a press made while the hub is down is sent
when it is back. Serial work runs in the agent's own threads, never on the hub.
"""
