"""Receipt printer: queue tickets and 承诺单 slips (layout), real-time status, driver, simulator.

    from devices.printer import PrinterDriver, Ticket, ticket_bytes
"""

# First: python-escpos, imported below, would otherwise leave a directory in /tmp.
from devices.printer import escpos_import  # noqa: F401  # isort: skip
from devices.printer.driver import FileTransport, PrinterDriver, PrinterError, transport_for
from devices.printer.layout import (
    PAPER_58,
    PAPER_80,
    SUBSTITUTE,
    CommitmentSlip,
    Paper,
    Ticket,
    slip_bytes,
    ticket_bytes,
)
from devices.printer.status import PrinterStatus

__all__ = ["PAPER_58", "PAPER_80", "SUBSTITUTE", "CommitmentSlip", "FileTransport", "Paper",
           "PrinterDriver", "PrinterError", "PrinterStatus", "Ticket", "slip_bytes",
           "ticket_bytes", "transport_for"]
