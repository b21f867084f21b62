"""Onestop hub: the queue engine, the store and the Socket.IO/HTTP edge of a service hall."""

__version__ = "0.1.0"
