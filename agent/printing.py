"""The printer role: print the hub's jobs (queue tickets, 承诺单) and watch the printer's state.

One thread owns the printer: it takes jobs in order, checks the printer's real-time status
before each (DLE EOT), prints, and answers the hub with the result, so a paper-out is reported
to the kiosk screen at once instead of the job vanishing into a dead printer. Between jobs it
asks the status every `status_interval_s`, so the office sees a printer fault before the next
citizen does.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from devices.errors import DeviceError
from devices.printer import CommitmentSlip, PrinterDriver, PrinterError, Ticket, transport_for
from devices.printer.wording import PrinterWording, SlipWording, TicketWording
from devices.words import fill, from_sent

from .config import Printer

log = logging.getLogger(__name__)

# result(job id, ok, message, message_en); health(status, detail)
ResultSink = Callable[[str, bool, str, str], None]
HealthSink = Callable[[str, str], None]


def ticket_from(doc: dict[str, Any]) -> Ticket:
    return Ticket(
        ticket_id=str(doc["ticket_id"]),
        number=str(doc["number"]),
        center_name=str(doc["center_name"]),
        center_name_en=str(doc.get("center_name_en") or ""),
        item=str(doc["item"]),
        windows=[str(w) for w in doc.get("windows", [])],
        ahead=int(doc.get("ahead", 0)),
        issued_at=dt.datetime.fromisoformat(doc["issued_at"]),
        materials=[str(m) for m in doc.get("materials", [])],
        item_en=str(doc.get("item_en") or ""),
        windows_en=str(doc.get("windows_en") or ""),
        wording=from_sent(TicketWording, doc.get("wording")),
        link=_link(doc),
        elderly=doc.get("elderly") is True,
    )


def slip_from(doc: dict[str, Any]) -> CommitmentSlip:
    promised = doc.get("promised_date")
    return CommitmentSlip(
        slip_no=str(doc["slip_no"]),
        center_name=str(doc["center_name"]),
        item=str(doc["item"]),
        accepted_at=dt.datetime.fromisoformat(doc["accepted_at"]),
        promised_date=dt.date.fromisoformat(promised) if promised else None,  # type: ignore[arg-type]
        promised=[str(p) for p in doc.get("promised", [])],
        item_en=str(doc.get("item_en") or ""),
        wording=from_sent(SlipWording, doc.get("wording")),
        link=_link(doc),
    )


def _link(doc: dict[str, Any]) -> str:
    """The phone page's address the QR holds; a hub that sends none (older): ""."""
    link = doc.get("link")
    return link if isinstance(link, str) and link.isascii() and len(link) <= 300 else ""


class PrintStation:
    def __init__(self, cfg: Printer, on_result: ResultSink, on_health: HealthSink,
                 driver: PrinterDriver | None = None) -> None:
        self.cfg = cfg
        self.driver = driver or PrinterDriver(
            transport_for(cfg.target, cfg.baud), cfg.paper, require_status=cfg.require_status)
        self._on_result, self._on_health = on_result, on_health
        self._jobs: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._health: tuple[str, str] | None = None
        self._stopping = False

    def use_words(self, sent: Any) -> None:
        """The words its hub sent (its snapshot's `texts.printer`): what the printer's state and
        failures are called from now on (one reference, swapped whole)."""
        self.driver.words = from_sent(PrinterWording, sent)

    def submit(self, job: Any) -> None:
        """From the hub link's thread: queue a job; it is printed in order on the printer's."""
        if not isinstance(job, dict) or not isinstance(job.get("job"), str):
            log.warning("ignored a malformed print job: %r", job)
            return
        self._jobs.put(job)

    def run(self, stop: threading.Event) -> None:
        self._check()
        while not stop.is_set():
            try:
                job = self._jobs.get(timeout=self.cfg.status_interval_s)
            except queue.Empty:
                self._check()
                continue
            if job is None:
                break
            self._print(job)

    def stop(self) -> None:
        self._stopping = True
        self._jobs.put(None)
        self.driver.close()  # a job being printed ends now, with an error its thread expects

    def _print(self, job: dict[str, Any]) -> None:
        try:
            kind = job.get("kind")
            if kind == "ticket":
                ticket = ticket_from(job["ticket"])
                send = lambda: self.driver.print_ticket(ticket)  # noqa: E731
            elif kind == "slip":
                slip = slip_from(job["slip"])
                send = lambda: self.driver.print_slip(slip)  # noqa: E731
            else:
                raise ValueError(f"unknown job kind {kind!r}")
        except (KeyError, TypeError, ValueError) as err:
            log.warning("print job %s is malformed: %s", job["job"], err)
            words = self.driver.words
            self._on_result(job["job"], False, words.malformed, fill(words.en_malformed, err=err))
            return
        try:
            st = send()
        except Exception as err:
            if self._stopping:  # closed under it by stop(): not the job's fault, and the
                # hub link is already down, so there is no one to answer
                log.info("print job %s interrupted: the agent is stopping", job["job"])
                return
            self._failed(job["job"], err)
            return
        self._set_health("online", st.describe(self.driver.words) if st is not None else "")
        self._on_result(job["job"], True, "", "")

    def _failed(self, job: str, err: Exception) -> None:
        words = self.driver.words
        if isinstance(err, PrinterError):
            log.warning("print job %s failed: %s", job, err)
            self._set_health("error" if err.status is not None else "offline", str(err))
            self._on_result(job, False, str(err), _english(err, words))
        elif isinstance(err, DeviceError):
            log.warning("print job %s failed: %s", job, err)
            self._set_health("offline", str(err))
            self._on_result(job, False, fill(words.not_connected, err=err),
                            words.en_not_connected)
        else:  # a fault of ours or the port's: reported, and the next job is printed
            log.exception("print job %s failed", job)
            self._set_health("offline", str(err))
            self._on_result(job, False, fill(words.not_connected, err=err),
                            words.en_not_connected)

    def _check(self) -> None:
        try:
            st = self.driver.read_status()
        except DeviceError as err:
            self._set_health("offline", str(err))
            return
        if st is None:
            if self.driver.require_status:
                self._set_health("offline", self.driver.words.status_no_answer)
            else:
                self._set_health("online", "")
        else:
            self._set_health("online" if st.ready else "error", st.describe(self.driver.words))

    def _set_health(self, state: str, detail: str) -> None:
        if self._health != (state, detail):
            self._health = (state, detail)
            log.info("printer %s: %s %s", self.cfg.target, state, detail)
            self._on_health(state, detail)


def _english(err: PrinterError, words: PrinterWording) -> str:
    st = err.status
    if st is None:
        return words.en_no_answer
    problems = []
    if st.paper_out:
        problems.append(words.en_paper_out)
    if st.cover_open:
        problems.append(words.en_cover_open)
    if not st.online and not problems:
        problems.append(words.en_offline)
    if st.error:
        problems.append(words.en_error)
    return fill(words.en_not_ready, problems=words.en_separator.join(problems) or words.en_unknown)
