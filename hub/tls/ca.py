"""The hall's certificate authority: `onestop ca init` and `onestop ca issue`.

The CA directory holds `ca.key` (mode 0600: whoever holds it can impersonate the hub to every
screen, kiosk and agent) and `ca.pem` (public: copied to every client). A server certificate
is written as `NAME.pem` (the certificate, then the CA's, so a client that has only the CA can
build the chain) and `NAME.key` (0600). Nothing is ever overwritten: a new CA would silently
cut every installed client off, and a replaced server key is a decision, not a side effect.

Keys are ECDSA P-256: TLS handshakes on a Pi are several times cheaper than with RSA-2048,
and every TLS 1.2/1.3 client of the hall (Chromium, Python's ssl, nginx) speaks it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_KEY = "ca.key"
CA_CERT = "ca.pem"
CA_DAYS = 3650  # the CA outlives many server certificates: re-issuing those is routine
SERVER_DAYS = 397  # what browsers accept for a server certificate (CA/Browser Forum limit)
MAX_SERVER_DAYS = 825
BACKDATE = dt.timedelta(minutes=5)  # a client whose clock is a little behind still accepts it


class CAError(ValueError):
    """A CA operation that cannot be done: said to the operator as it is."""


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path
    not_after: dt.datetime
    names: tuple[str, ...]


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create `path` with its final mode (a key is never readable by others, not even for a
    moment), refusing to replace an existing file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as err:
        raise CAError(f"{path} exists: not overwritten (move it away first if you mean to "
                      "replace it)") from err
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)  # the umask may have taken bits away from a public file


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def init_ca(directory: str | Path, name: str, now: dt.datetime,
            days: int = CA_DAYS) -> tuple[Path, Path]:
    """Make the hall's CA in `directory`: (ca.pem, ca.key). Refuses if either exists."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert_path, key_path = folder / CA_CERT, folder / CA_KEY
    for path in (cert_path, key_path):
        if path.exists():
            raise CAError(f"{path} exists: this directory already holds a CA (not overwritten)")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Onestop hall CA")])
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_new(key_path, _key_pem(key), 0o600)
    _write_new(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert_path, key_path


def _load_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        cert = x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())
        key = serialization.load_pem_private_key((directory / CA_KEY).read_bytes(), None)
    except FileNotFoundError as err:
        raise CAError(f"no CA in {directory} ({err.filename} missing): onestop ca init "
                      f"--dir {directory}") from err
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CAError(f"{directory / CA_KEY} is not an onestop CA key")
    return cert, key


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    if not host or any(c.isspace() or c in "/:@" for c in host):
        raise CAError(f"{host!r} is neither a host name nor an IP address")
    return x509.DNSName(host.lower())


def issue(directory: str | Path, hosts: list[str], now: dt.datetime,
          days: int = SERVER_DAYS, out: str | Path | None = None) -> Issued:
    """A server certificate for `hosts` (DNS names and IP addresses, all of them SANs),
    signed by the CA in `directory`; written as OUT.pem and OUT.key (default: DIR/HOST1)."""
    if not hosts:
        raise CAError("name at least one --host (the name or address clients use)")
    if not 1 <= days <= MAX_SERVER_DAYS:
        raise CAError(f"--days must be 1-{MAX_SERVER_DAYS}")
    folder = Path(directory)
    ca_cert, ca_key = _load_ca(folder)
    names = [_san(h) for h in hosts]
    not_after = min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    base = Path(out) if out else folder / hosts[0].strip("[]").replace(":", "_")
    cert_path, key_path = base.with_name(base.name + ".pem"), base.with_name(base.name + ".key")
    for path in (cert_path, key_path):
        if path.exists():
            raise CAError(f"{path} exists: not overwritten (move it away, or choose --out)")
    _write_new(key_path, _key_pem(key), 0o600)
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(
        serialization.Encoding.PEM)
    _write_new(cert_path, chain, 0o644)
    return Issued(cert_path, key_path, not_after, tuple(hosts))


def not_after(cert_file: str | Path) -> dt.datetime:
    """When the (first) certificate in `cert_file` expires, in UTC."""
    try:
        cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
    except ValueError as err:
        raise CAError(f"{cert_file} is not a PEM certificate: {err}") from err
    return cert.not_valid_after_utc
