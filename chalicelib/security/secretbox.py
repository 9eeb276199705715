"""Secrets at rest: AES-256-GCM under keys derived from the deployment's master key.

The master key itself comes from ``store.keyring`` (a local key file, or a KMS-encrypted data key
on AWS). Each purpose gets its own derived key (HKDF), and the caller's associated data (e.g. the
tenant and the AccessKey ID) is bound into every ciphertext, so a secret copied onto another record
does not decrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import os

_NONCE = 12
_VERSION = b"\x01"


class SecretBox:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("master key must be 32 bytes")
        self._master = master_key

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (HKDF-SHA256 expand, single block)."""
        prk = hmac.new(b"mds-keyring", self._master, hashlib.sha256).digest()
        return hmac.new(prk, purpose.encode() + b"\x01", hashlib.sha256).digest()

    def seal(self, plaintext: bytes, *, purpose: str, context: str) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(_NONCE)
        sealed = AESGCM(self.derive(purpose)).encrypt(nonce, plaintext, context.encode())
        return _VERSION + nonce + sealed

    def open(self, blob: bytes, *, purpose: str, context: str) -> bytes:
        """Raises ValueError if the blob was tampered with or sealed for another context."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if blob[:1] != _VERSION:
            raise ValueError("unknown secret format")
        nonce, sealed = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
        try:
            return AESGCM(self.derive(purpose)).decrypt(nonce, sealed, context.encode())
        except InvalidTag:
            raise ValueError("secret does not decrypt in this context") from None
