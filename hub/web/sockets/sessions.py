"""Sockets that follow their sessions: a clerk's sessions ended (signed in elsewhere, signed
out) or moved to another window by the office. The hub that holds a clerk's sockets acts on
them, and with several hubs that may be another hub of the pair: each event is also told to
the other hubs (hub/web/message_queue.py `Peers`), as is every sign-in counted by the limiter
(five wrong passwords are five, whichever hubs nginx sent them to)."""

from __future__ import annotations

from typing import Any

from hub.service import HallService
from hub.web import message_queue

from .base import RoleNamespace
from .caller import CallerNamespace


class SessionFollower:
    def __init__(self, service: HallService, peers: message_queue.Peers,
                 namespaces: list[RoleNamespace], caller: CallerNamespace) -> None:
        self.service, self.peers = service, peers
        self.namespaces, self.caller = namespaces, caller

    def install(self) -> None:
        """Listen to the other hubs and to this hub's service."""
        peers, service = self.peers, self.service
        peers.on("sessions_ended", self.end_sessions)
        peers.on("clerk_moved", self.follow_move)
        peers.on("sign_in", self.count_sign_in)
        service.limiter.listeners.append(
            lambda kind, key: peers.tell("sign_in", {"kind": kind, "key": key}))
        service.on_sessions_ended(self.sessions_ended)
        service.on_clerk_moved(self.clerk_moved)

    def end_sessions(self, hashes: Any) -> None:
        if isinstance(hashes, list) and all(isinstance(h, str) for h in hashes):
            for ns in self.namespaces:
                ns.end_sessions(set(hashes))

    def follow_move(self, moved: Any) -> None:
        if isinstance(moved, dict) and isinstance(moved.get("sessions"), list):
            self.caller.follow_move({str(h) for h in moved["sessions"]}, int(moved["from"]),
                                    int(moved["to"]))

    def sessions_ended(self, hashes: list[str]) -> None:
        self.end_sessions(list(hashes))
        self.peers.tell("sessions_ended", list(hashes))

    def clerk_moved(self, _user: str, old: int, new: int, hashes: list[str]) -> None:
        moved = {"sessions": list(hashes), "from": old, "to": new}
        self.follow_move(moved)
        self.peers.tell("clerk_moved", moved)

    def count_sign_in(self, said: Any) -> None:
        """Another hub's failed (or successful) sign-in counts here too."""
        if isinstance(said, dict) and isinstance(key := said.get("key"), str):
            if said.get("kind") == "fail":
                self.service.limiter.fail(key, local=False)
            elif said.get("kind") == "succeed":
                self.service.limiter.succeed(key, local=False)
