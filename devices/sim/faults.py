"""Fault switches for the simulated bus, settable at run time per device or for the whole bus.

Like OctoPrint's virtual printer, the simulator can be told to misbehave the ways real RS-485
devices do: not answer, answer late, answer with a bad CRC, with line noise around (or instead
of) the reply, with a truncated reply, from the wrong address, or with a Modbus exception.
`probability` makes any of them intermittent (seeded, so a failing test can be replayed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields

from devices.modbus import with_crc

GARBAGE_PLACES = ("before", "after", "instead")


@dataclass
class Faults:
    no_reply: bool = False
    garbage: str | None = None  # "before", "after" or "instead" of the reply
    garbage_len: int = 8
    bad_crc: bool = False
    delay_s: float = 0.0  # slow reply: extra turnaround
    wrong_address: int | None = None  # the reply claims to come from this address
    truncate: int | None = None  # send only the first n bytes of the reply
    exception: int | None = None  # answer with this Modbus exception code instead
    probability: float = 1.0  # each reply is faulty with this probability

    def __setattr__(self, name: str, value: object) -> None:
        if name == "garbage" and value not in (None, *GARBAGE_PLACES):
            raise ValueError(f"garbage must be one of {GARBAGE_PLACES} or None")
        super().__setattr__(name, value)

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) != f.default for f in fields(self)
                   if f.name not in ("probability", "garbage_len"))

    def clear(self) -> None:
        for f in fields(self):
            setattr(self, f.name, f.default)

    def set(self, **switches: object) -> Faults:
        for name, value in switches.items():
            if name not in {f.name for f in fields(self)}:
                raise AttributeError(f"no fault switch {name!r}")
            setattr(self, name, value)
        return self

    def roll(self, rng: random.Random) -> bool:
        """Does this reply misbehave? (False at once when no switch is on.)"""
        return self.any and (self.probability >= 1.0 or rng.random() < self.probability)

    def shape(self, reply: bytes, rng: random.Random) -> bytes | None:
        """The bytes actually sent for `reply` (None: nothing at all)."""
        if self.no_reply:
            return None
        out = bytearray(reply)
        if self.wrong_address is not None and out:
            out = bytearray(with_crc(bytes((self.wrong_address,)) + bytes(out[1:-2])))
        if self.bad_crc and out:
            out[-1] ^= 0xFF
        if self.truncate is not None:
            out = out[:self.truncate]
        noise = bytes(rng.randrange(256) for _ in range(self.garbage_len))
        if self.garbage == "before":
            out = bytearray(noise) + out
        elif self.garbage == "after":
            out += noise
        elif self.garbage == "instead":
            out = bytearray(noise)
        return bytes(out)

