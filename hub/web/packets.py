"""A check in front of python-socketio for each Socket.IO packet a client sends.

python-socketio raises on a packet it cannot take (JSON that does not parse, or nests deeper
than the parser goes; an event with no name; a packet type a client never sends; a binary
attachment nobody announced), and Engine.IO logs each as a traceback, with no answer to the
client. Such a packet is refused here instead: one log line, and an error ack when the packet
asked for one (a refused connect gets its CONNECT_ERROR), as every event the namespaces refuse
is answered (hub/web/sockets/). The hub's clients send JSON only, so binary packets are
refused too.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from socketio import Server, packet

log = logging.getLogger(__name__)

# What a client may send: connect, disconnect, an event, an ack of the server's event.
CLIENT_PACKETS = frozenset({packet.CONNECT, packet.DISCONNECT, packet.EVENT, packet.ACK})
# <type>[<attachments>-][<namespace>,][<ack id>]<JSON>: enough of a packet to answer it.
_HEAD = re.compile(r"^(?P<type>[0-9])(?:\d+-)?(?:(?P<ns>/[^,]*),)?(?P<id>\d{1,18})?")

_PROBLEM = {"code": "invalid_packet",
            "message": "数据无法解析 / the packet is not a JSON event (or nests too deeply)"}
ERROR = {"ok": False, "error": _PROBLEM}


def guard(server: Server) -> None:
    """Put the check in front of the server's handler of Engine.IO messages."""
    handle = server.eio.handlers["message"]

    def message(eio_sid: str, data: Any) -> Any:
        if not isinstance(data, str) or not _takes(server, data):
            _refuse(server, eio_sid, data)
            return None
        return handle(eio_sid, data)

    server.eio.on("message", message)


def _takes(server: Server, data: str) -> bool:
    try:
        pkt = server.packet_class(encoded_packet=data)
    except (ValueError, RecursionError, TypeError):  # the JSON, or the head, does not parse
        return False
    if pkt.packet_type not in CLIENT_PACKETS:
        return False
    return pkt.packet_type != packet.EVENT or bool(isinstance(pkt.data, list) and pkt.data)


def _refuse(server: Server, eio_sid: str, data: Any) -> None:
    head = _HEAD.match(data) if isinstance(data, str) else None
    kind = int(head["type"]) if head else None
    log.info("refused a malformed Socket.IO packet (type %s, %d chars) from %s",
             kind, len(data), eio_sid)
    if head is None:
        return
    namespace = head["ns"] or "/"
    if kind == packet.CONNECT:
        reply = server.packet_class(packet.CONNECT_ERROR, namespace=namespace,
                                    data={"message": _PROBLEM["message"], "data": _PROBLEM})
    elif kind in (packet.EVENT, packet.BINARY_EVENT) and head["id"] is not None:
        reply = server.packet_class(packet.ACK, namespace=namespace, id=int(head["id"]),
                                    data=[ERROR])
    else:
        return
    server.eio.send(eio_sid, reply.encode())
