"""Serial hardware of a service-hall window: the RS-485 Modbus bus (evaluation keypad 评价器,
caller keypad 叫号器, LED window display 窗口屏) and one-byte-per-key USB-serial keypads.

Layers, each its own module: `modbus` (pure RTU framing), `regmap` (the register map,
docs/devices.md), `transport` (the port, and the one place library errors are converted),
`master` (transactions and link health), the drivers `keypad`, `led`, `bytekeypad`, and `bus`
(the poller an agent runs in a worker thread). `devices.idcard` is the kiosk's ID card reader
(GA 467-2013 SAM frames, its driver, keyboard readers). `devices.sim` has the simulators.

Only this package imports pyserial (and, in its tests and benchmarks, pymodbus).

Use from an agent (everything below is thread-safe; callbacks run on the bus thread):

    master = ModbusMaster(SerialTransport("/dev/serial/by-id/usb-…-port0", 9600))
    rating = RatingKeypad(master, 1, name="bus1/rating@1")
    caller = CallerKeypad(master, 2, name="bus1/caller@2")
    led = LedDisplay(master, 3, name="bus1/led@3")
    bus = Bus(master, [rating, caller, led], on_event=..., on_health=...)
    threading.Thread(target=bus.run, daemon=True).start()   # opens the port, polls, reopens
    bus.submit(led.show, "请A001号到3号窗口")                  # -> Future
    bus.submit(rating.request_rating, 1235, 30, "李明 工号JZ1001")
    bus.stop()
"""

from devices.bus import Bus
from devices.bytekeypad import CALLER_KEYMAP, RATING_KEYMAP, ByteKeypad
from devices.errors import DeviceError, DeviceGone, DeviceTimeout, ModbusException, ProtocolError
from devices.events import Event, HealthChange, KeyEvent, RatingExpired, RatingPress
from devices.keypad import CallerKeypad, RatingKeypad
from devices.led import LedDisplay
from devices.master import Health, ModbusMaster
from devices.regmap import CallerKey, DeviceKind, RatingLevel, Reason
from devices.transport import SerialTransport

__all__ = [
    "CALLER_KEYMAP", "RATING_KEYMAP", "Bus", "ByteKeypad", "CallerKey", "CallerKeypad",
    "DeviceError", "DeviceGone", "DeviceKind", "DeviceTimeout", "Event", "Health",
    "HealthChange", "KeyEvent", "LedDisplay", "ModbusException", "ModbusMaster",
    "ProtocolError", "RatingExpired", "RatingKeypad", "RatingLevel", "RatingPress", "Reason",
    "SerialTransport",
]
