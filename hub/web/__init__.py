"""The hub's edge: Flask HTTP API and Flask-SocketIO namespaces over one HallService."""
