"""TLS on the hall's LAN: the hall's own certificate authority, and what the hub and its
clients do with it.

A government hall's network has no public names, so no public CA can vouch for the hub: the
hall makes its own CA once (`onestop ca init`, a key that may then leave the machine) and
issues the hub's server certificate with it (`onestop ca issue`). Every client pins that one
CA (its `ca.pem`), never the system's store: a certificate a public CA issued for some other
name proves nothing here.

    ca.py       the CA and server certificates (the `cryptography` library, no openssl calls)
    serving.py  the hub's side: its SSL context, the plain-HTTP redirect, the expiry date
"""

from __future__ import annotations

CA_ENV = "ONESTOP_CA_FILE"  # the hall CA a client pins, when its config does not name one
