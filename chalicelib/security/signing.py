"""Ed25519 signing of manifests: one key pair per tenant; devices pin the public keys.

The private key never leaves this module unsealed: it is stored sealed by ``SecretBox`` (purpose
``manifest-signing``, bound to the tenant and key ID) and opened only to sign.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from chalicelib.domain.manifests import Envelope


@dataclass(frozen=True)
class KeyPair:
    key_id: str
    private_raw: bytes
    public_raw: bytes


def generate() -> KeyPair:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    private = Ed25519PrivateKey.generate()
    private_raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return KeyPair(key_id=key_id_of(public_raw), private_raw=private_raw, public_raw=public_raw)


def key_id_of(public_raw: bytes) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def sign(private_raw: bytes, key_id: str, payload: bytes) -> Envelope:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    signature = Ed25519PrivateKey.from_private_bytes(private_raw).sign(payload)
    return Envelope(key_id=key_id, payload=payload, signature=signature)


def verify(envelope: Envelope, public_keys: dict[str, bytes]) -> bool:
    """True if a pinned key with the envelope's key ID signed exactly these payload bytes."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public_raw = public_keys.get(envelope.key_id)
    if public_raw is None:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(envelope.signature, envelope.payload)
    except InvalidSignature:
        return False
    return True


def public_pem(public_raw: bytes) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PublicKey.from_public_bytes(public_raw)
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def public_b64(public_raw: bytes) -> str:
    return base64.b64encode(public_raw).decode()
