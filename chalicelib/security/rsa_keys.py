"""RSA keys for H5 offline packages and hotpatches: the only user of RSA in MDS.

Packages are signed with RSASSA-PKCS1-v1_5 over SHA-256, the scheme Android
(``Signature.getInstance("SHA256withRSA")``) and iOS (``SecKeyVerifySignature`` with
``kSecKeyAlgorithmRSASignatureMessagePKCS1v15SHA256``) verify natively.

Keys arrive as PEM uploads: a private key as PKCS#1 (``BEGIN RSA PRIVATE KEY``, what ``openssl genrsa``
writes) or PKCS#8 (``BEGIN PRIVATE KEY``), unencrypted; a public key as SubjectPublicKeyInfo
(``BEGIN PUBLIC KEY``) or PKCS#1 (``BEGIN RSA PUBLIC KEY``). Anything else is refused with a
``ValidationError(field, rule)`` that says why. ``cryptography`` is imported lazily (cold start).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from chalicelib.domain.errors import ValidationError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

MIN_BITS = 2048
MAX_PEM_BYTES = 64 * 1024  # a 16384-bit PEM key is about 12 KiB
ALGORITHM = "RSASSA-PKCS1-v1_5-SHA256"


def _pem_bytes(pem: bytes | str, field: str) -> bytes:
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else bytes(pem)
    if not data.strip():
        raise ValidationError(field, "is empty; upload an RSA key in PEM format")
    if len(data) > MAX_PEM_BYTES:
        raise ValidationError(field, f"is larger than {MAX_PEM_BYTES} bytes; it is not a PEM key")
    if b"-----BEGIN" not in data:
        raise ValidationError(field, "is not a PEM key (no '-----BEGIN' line)")
    return data


def _check_bits(bits: int, field: str) -> None:
    if bits < MIN_BITS:
        raise ValidationError(field, f"RSA key of {bits} bits; at least {MIN_BITS} are required")


def load_private_key(pem: bytes | str, *, field: str = "file") -> RSAPrivateKey:
    """An unencrypted RSA private key (PKCS#1 or PKCS#8 PEM) of at least 2048 bits.

    Raises:
        ValidationError: ``field``: not a PEM key, encrypted, not RSA, a public key, or too short.
    """
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    data = _pem_bytes(pem, field)
    if b"ENCRYPTED" in data or b"Proc-Type: 4,ENCRYPTED" in data:
        raise ValidationError(field, "is an encrypted private key; upload it without a passphrase")
    if b"PUBLIC KEY-----" in data and b"PRIVATE KEY-----" not in data:
        raise ValidationError(field, "is a public key; upload the RSA private key")
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:
        # cryptography says "Password was not given but private key is encrypted"
        raise ValidationError(field, "is an encrypted private key; upload it without a passphrase") from None
    except (ValueError, UnicodeError) as exc:
        raise ValidationError(field, f"is not a readable PEM private key ({_short(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - cryptography raises UnsupportedAlgorithm (and more) for odd keys
        raise ValidationError(field, f"is not a supported private key ({_short(exc)})") from None
    if not isinstance(key, RSAPrivateKey):
        raise ValidationError(field, f"is {_kind(key)} private key; an RSA key is required")
    _check_bits(key.key_size, field)
    return key


def load_public_key(pem: bytes | str, *, field: str = "file") -> RSAPublicKey:
    """An RSA public key (SubjectPublicKeyInfo or PKCS#1 PEM) of at least 2048 bits.

    Raises:
        ValidationError: ``field``: not a PEM public key, not RSA, or too short.
    """
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = _pem_bytes(pem, field)
    if b"PRIVATE KEY-----" in data:
        raise ValidationError(field, "is a private key; upload the public key only")
    try:
        key = load_pem_public_key(data)
    except (ValueError, UnicodeError) as exc:
        raise ValidationError(field, f"is not a readable PEM public key ({_short(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - as for private keys: any refusal is the upload's fault
        raise ValidationError(field, f"is not a supported public key ({_short(exc)})") from None
    if not isinstance(key, RSAPublicKey):
        raise ValidationError(field, f"is {_kind(key)} public key; an RSA key is required")
    _check_bits(key.key_size, field)
    return key


def generate_private_key(bits: int = MIN_BITS) -> RSAPrivateKey:
    """A fresh RSA key (public exponent 65537), for tests and MDS-managed keys."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def private_key_bytes(key: RSAPrivateKey) -> bytes:
    """Unencrypted PKCS#8 DER, the form to seal with ``SecretBox`` (reload with ``private_key_from_der``)."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())


def private_key_from_der(der: bytes) -> RSAPrivateKey:
    """The key ``private_key_bytes`` wrote (after unsealing)."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    key = load_der_private_key(der, password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("sealed key is not an RSA private key")
    return key


def private_key_pem(key: RSAPrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM (tests, the reference CLI)."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def _public(key: RSAPrivateKey | RSAPublicKey) -> RSAPublicKey:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    return key.public_key() if isinstance(key, RSAPrivateKey) else key


def public_key_pem(key: RSAPrivateKey | RSAPublicKey) -> str:
    """The public half as SubjectPublicKeyInfo PEM (``-----BEGIN PUBLIC KEY-----``)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return _public(key).public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def key_id(key: RSAPrivateKey | RSAPublicKey | str | bytes) -> str:
    """A short, stable name for a public key: the first 16 hex digits of SHA-256 of its DER SPKI."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = _as_public(key)
    der = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def sign(private_key: RSAPrivateKey, data: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 / SHA-256 signature of ``data`` (deterministic)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def verify(public: RSAPublicKey | RSAPrivateKey | str | bytes, data: bytes, signature: bytes) -> bool:
    """True if ``signature`` is the RSASSA-PKCS1-v1_5 / SHA-256 signature of ``data`` under ``public``.

    ``public`` may be a key object or PEM text; a PEM that is not a valid RSA key raises
    ``ValidationError("publicKey", ...)``.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key = _as_public(public)
    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _as_public(key: RSAPrivateKey | RSAPublicKey | str | bytes) -> RSAPublicKey:
    if isinstance(key, str | bytes):
        return load_public_key(key, field="publicKey")
    return _public(key)


def _kind(key: object) -> str:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519

    kinds = (
        ((ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey), "an EC"),
        ((ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey), "an Ed25519"),
        ((ed448.Ed448PrivateKey, ed448.Ed448PublicKey), "an Ed448"),
        ((dsa.DSAPrivateKey, dsa.DSAPublicKey), "a DSA"),
    )
    for types, name in kinds:
        if isinstance(key, types):
            return name
    return "a non-RSA"


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
