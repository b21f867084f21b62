"""Simulators for the serial devices: a Modbus RTU bus of window devices on a pty, a
one-byte-per-key keypad, and the kiosk's ID card reader (`SimIdReader`, GA 467-2013 SAM). They
speak the same bytes as the real devices (docs/devices.md), with fault switches, so the drivers
are tested, benchmarked and demonstrated without hardware.

    from devices.sim import SimBus, SimRatingKeypad, SimCallerKeypad, SimLed
    with SimBus([SimRatingKeypad(1), SimCallerKeypad(2), SimLed(3)], baud=9600) as sim:
        transport = SerialTransport(sim.path, 9600)   # the driver opens the stable path
        sim[1].faults.set(no_reply=True)              # per device; sim.faults for the bus
        sim.unplug(); sim.plug()

`python -m devices.sim --help` runs one by hand.
"""

from devices.sim.bytekeypad import SimByteKeypad
from devices.sim.faults import Faults
from devices.sim.idcard import SimCard, SimIdReader, fictitious_card
from devices.sim.models import (
    SimCallerKeypad,
    SimDevice,
    SimLed,
    SimRatingKeypad,
    SlaveError,
    make_device,
)
from devices.sim.slave import SimBus

__all__ = ["Faults", "SimBus", "SimByteKeypad", "SimCallerKeypad", "SimCard", "SimDevice",
           "SimIdReader", "SimLed", "SimRatingKeypad", "SlaveError", "fictitious_card",
           "make_device"]
