"""The audit log's Ed25519 key: created on first use under the data directory (PEM, mode 0600)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from trafficai.errors import AuditError


def checkpoint_message(seq: int, digest: str, time: str) -> str:
    return f"trafficai-audit-checkpoint:{seq}:{digest}:{time}"


class SigningKey:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self.private = private
        self.public = private.public_key()
        self.public_hex = self.public.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        ).hex()

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        if path.is_file():
            try:
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except (OSError, ValueError) as exc:
                raise AuditError(f"audit signing key {path} cannot be read: {exc}") from None
            if not isinstance(key, Ed25519PrivateKey):
                raise AuditError(f"audit signing key {path} is not an Ed25519 key")
            return cls(key)
        key = Ed25519PrivateKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        return cls(key)

    def sign_hex(self, message: str) -> str:
        return self.private.sign(message.encode("utf-8")).hex()

    def verify_hex(self, message: str, signature: str) -> bool:
        return self.verify_with(self.public_hex, message, signature)

    @staticmethod
    def verify_with(public_hex: str, message: str, signature: str) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(
                bytes.fromhex(signature), message.encode("utf-8")
            )
        except (InvalidSignature, ValueError):
            return False
        return True
