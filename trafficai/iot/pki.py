"""The local certificate authority of a device network (``trafficai iot init``), with ``cryptography``.

Layout of a PKI folder::

    ca.pem ca.key            the network's own CA (the broker's only ``cafile``: with
                             ``use_identity_as_username`` any CA there could mint identities)
    server.pem server.key    the broker (SAN localhost, 127.0.0.1, ::1)
    clients/<id>.pem .key    one per device (CN = device id), the control center, the reader
    crl.pem                  revoked client certificates, signed by the CA
    revoked.txt              serial numbers in the CRL, one per line

Keys are P-256, written 0600. Nothing here touches the network.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from trafficai.errors import ConfigError

VALID_DAYS = 825
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Pki:
    """Paths of a PKI folder."""

    root: Path

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.root / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.root / "server.key"

    @property
    def crl(self) -> Path:
        return self.root / "crl.pem"

    @property
    def revoked_list(self) -> Path:
        return self.root / "revoked.txt"

    def client_cert(self, identity: str) -> Path:
        return self.root / "clients" / f"{identity}.pem"

    def client_key(self, identity: str) -> Path:
        return self.root / "clients" / f"{identity}.key"

    def identities(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "clients").glob("*.pem"))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(path, pem, private=True)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trafficai"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def new_ca(common_name: str = "trafficai local CA") -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - _ONE_DAY)
        .not_valid_after(_now() + dt.timedelta(days=VALID_DAYS * 4))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    common_name: str,
    *,
    server: bool = False,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A leaf certificate for a client (CN = identity) or the broker (SAN loopback names)."""
    key = ec.generate_private_key(ec.SECP256R1())
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or _now() - _ONE_DAY)
        .not_valid_after(not_after or _now() + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    if server:
        names: list[x509.GeneralName] = [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint, colon-separated upper-case hex (as ``openssl x509 -fingerprint``)."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the certificate: {exc}") from exc


def _load_ca(pki: Pki) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    try:
        key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{pki.ca_key}: cannot read the CA key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigError(f"{pki.ca_key}: not an EC key written by trafficai iot init")
    return key, load_cert(pki.ca_cert)


def write_client(
    pki: Pki, identity: str, not_before: dt.datetime | None = None, not_after: dt.datetime | None = None
) -> Path:
    ca_key, ca_cert = _load_ca(pki)
    key, cert = issue(ca_key, ca_cert, identity, not_before=not_before, not_after=not_after)
    _write_key(pki.client_key(identity), key)
    _write(pki.client_cert(identity), cert.public_bytes(serialization.Encoding.PEM))
    return pki.client_cert(identity)


def revoked_serials(pki: Pki) -> list[int]:
    if not pki.revoked_list.exists():
        return []
    return [int(line) for line in pki.revoked_list.read_text().split() if line.strip()]


def write_crl(pki: Pki, serials: Iterable[int]) -> None:
    ca_key, ca_cert = _load_ca(pki)
    unique = sorted(set(serials))
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(_now() - dt.timedelta(minutes=5))
        .next_update(_now() + dt.timedelta(days=VALID_DAYS))
    )
    for serial in unique:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(_now()).build()
        )
    _write(pki.crl, builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    _write(pki.revoked_list, "".join(f"{s}\n" for s in unique).encode())


def init_pki(root: Path, identities: Iterable[str], *, overwrite: bool = False) -> Pki:
    """A new CA, the broker's certificate, one client certificate per identity and an empty CRL."""
    pki = Pki(root)
    if pki.ca_key.exists() and not overwrite:
        raise ConfigError(f"{root} already holds a CA (ca.key); use another folder")
    ca_key, ca_cert = new_ca()
    _write_key(pki.ca_key, ca_key)
    _write(pki.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM))
    key, cert = issue(ca_key, ca_cert, "localhost", server=True)
    _write_key(pki.server_key, key)
    _write(pki.server_cert, cert.public_bytes(serialization.Encoding.PEM))
    for identity in identities:
        write_client(pki, identity)
    write_crl(pki, [])
    return pki


def revoke(pki: Pki, identity: str) -> int:
    """Put ``identity``'s certificate on the CRL; its serial number."""
    path = pki.client_cert(identity)
    if not path.exists():
        raise ConfigError(f"no certificate for {identity!r} in {pki.root / 'clients'}")
    serial = load_cert(path).serial_number
    write_crl(pki, [*revoked_serials(pki), serial])
    return serial


def fingerprints(pki: Pki) -> dict[str, str]:
    """Identity -> certificate fingerprint of every client certificate (for the inventory)."""
    return {identity: fingerprint(load_cert(pki.client_cert(identity))) for identity in pki.identities()}
