"""The second-generation ID card reader (二代身份证阅读器) at the ticket kiosk.

`protocol` is the pure GA 467-2013 SAM framing and the card's text block, `reader` the driver
of a serial (SAM) reader, `keyboard` the readers that type the number as a USB keyboard.
`devices.sim.idcard` simulates a SAM reader on a pty. docs/devices.md has every byte.

Personal data: a card's fields are never logged, and their objects' `repr` hides them.
"""

from devices.idcard.reader import CardRead, IdCardReader

__all__ = ["CardRead", "IdCardReader"]
