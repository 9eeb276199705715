"""RSA key loading, fingerprints and PKCS#1 v1.5 / SHA-256 signatures (chalicelib.security.rsa_keys)."""

from __future__ import annotations

import functools
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519

from chalicelib.domain.errors import ValidationError
from chalicelib.security import rsa_keys


@functools.cache
def _key():
    return rsa_keys.generate_private_key()


def _pem(key, fmt=ser.PrivateFormat.PKCS8, enc=None) -> bytes:
    return key.private_bytes(ser.Encoding.PEM, fmt, enc or ser.NoEncryption())


def test_loads_pkcs8_and_pkcs1_private_keys():
    key = _key()
    for fmt in (ser.PrivateFormat.PKCS8, ser.PrivateFormat.TraditionalOpenSSL):
        pem = _pem(key, fmt)
        loaded = rsa_keys.load_private_key(pem)
        assert loaded.key_size == 2048
        assert rsa_keys.key_id(loaded) == rsa_keys.key_id(key)
    assert b"BEGIN RSA PRIVATE KEY" in _pem(key, ser.PrivateFormat.TraditionalOpenSSL)
    assert rsa_keys.load_private_key(_pem(key).decode()).key_size == 2048  # str works too


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
def test_loads_openssl_genrsa_output(tmp_path):
    out = tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(out), "2048"], check=True, capture_output=True
    )
    pem = out.read_bytes()
    assert pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert rsa_keys.load_private_key(pem).key_size == 2048


@pytest.mark.parametrize(
    ("pem", "rule"),
    [
        (b"", "is empty; upload an RSA key in PEM format"),
        (b"hello world", "is not a PEM key (no '-----BEGIN' line)"),
        (
            b"-----BEGIN PRIVATE KEY-----\nnot base64!!\n-----END PRIVATE KEY-----\n",
            "is not a readable PEM private key",
        ),
    ],
)
def test_refuses_what_is_not_a_key(pem, rule):
    with pytest.raises(ValidationError) as err:
        rsa_keys.load_private_key(pem, field="rsaKey")
    assert err.value.field == "rsaKey"
    assert err.value.rule.startswith(rule)


def test_refuses_encrypted_keys_in_both_formats():
    key = _key()
    for fmt in (ser.PrivateFormat.PKCS8, ser.PrivateFormat.TraditionalOpenSSL):
        pem = _pem(key, fmt, ser.BestAvailableEncryption(b"secret"))
        with pytest.raises(ValidationError) as err:
            rsa_keys.load_private_key(pem)
        assert err.value.field == "file"
        assert err.value.rule == "is an encrypted private key; upload it without a passphrase"


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda: ec.generate_private_key(ec.SECP256R1()), "an EC"),
        (ed25519.Ed25519PrivateKey.generate, "an Ed25519"),
        (lambda: dsa.generate_private_key(2048), "a DSA"),
    ],
)
def test_refuses_keys_that_are_not_rsa(make, kind):
    with pytest.raises(ValidationError) as err:
        rsa_keys.load_private_key(_pem(make()))
    assert err.value.rule == f"is {kind} private key; an RSA key is required"
    public = make().public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ValidationError) as err:
        rsa_keys.load_public_key(public, field="publicKey")
    assert err.value.rule == f"is {kind} public key; an RSA key is required"


def test_refuses_short_keys_saying_how_short():
    small = rsa_keys.generate_private_key(1024)
    with pytest.raises(ValidationError) as err:
        rsa_keys.load_private_key(_pem(small))
    assert err.value.rule == "RSA key of 1024 bits; at least 2048 are required"
    with pytest.raises(ValidationError) as err:
        rsa_keys.load_public_key(rsa_keys.public_key_pem(small))
    assert err.value.rule == "RSA key of 1024 bits; at least 2048 are required"


def test_refuses_a_public_key_where_a_private_one_is_expected_and_vice_versa():
    with pytest.raises(ValidationError) as err:
        rsa_keys.load_private_key(rsa_keys.public_key_pem(_key()).encode())
    assert err.value.rule == "is a public key; upload the RSA private key"
    with pytest.raises(ValidationError) as err:
        rsa_keys.load_public_key(_pem(_key()))
    assert err.value.rule == "is a private key; upload the public key only"


def test_public_key_formats_round_trip():
    key = _key()
    spki = rsa_keys.public_key_pem(key)
    assert spki.startswith("-----BEGIN PUBLIC KEY-----")
    pkcs1 = key.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.PKCS1)
    assert rsa_keys.key_id(rsa_keys.load_public_key(spki)) == rsa_keys.key_id(rsa_keys.load_public_key(pkcs1))
    assert rsa_keys.key_id(spki) == rsa_keys.key_id(key) == rsa_keys.key_id(key.public_key())
    assert len(rsa_keys.key_id(key)) == 16


def test_sealable_bytes_round_trip():
    key = _key()
    der = rsa_keys.private_key_bytes(key)
    assert der[:1] == b"\x30"  # DER SEQUENCE
    assert rsa_keys.key_id(rsa_keys.private_key_from_der(der)) == rsa_keys.key_id(key)


def test_sign_and_verify_pkcs1v15_sha256():
    key = _key()
    signature = rsa_keys.sign(key, b"manifest bytes")
    assert len(signature) == 256
    assert signature == rsa_keys.sign(key, b"manifest bytes")  # PKCS#1 v1.5 is deterministic
    pem = rsa_keys.public_key_pem(key)
    assert rsa_keys.verify(pem, b"manifest bytes", signature)
    assert rsa_keys.verify(key.public_key(), b"manifest bytes", signature)
    assert not rsa_keys.verify(pem, b"manifest bytez", signature)
    assert not rsa_keys.verify(pem, b"manifest bytes", signature[:-1] + bytes([signature[-1] ^ 1]))
    other = rsa_keys.generate_private_key()
    assert not rsa_keys.verify(rsa_keys.public_key_pem(other), b"manifest bytes", signature)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
def test_signature_is_what_openssl_dgst_sha256_sign_produces(tmp_path):
    key = _key()
    (tmp_path / "key.pem").write_bytes(_pem(key))
    (tmp_path / "data").write_bytes(b"hello")
    result = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", str(tmp_path / "key.pem"), str(tmp_path / "data")],
        check=True,
        capture_output=True,
    )
    assert result.stdout == rsa_keys.sign(key, b"hello")


def test_verify_with_a_bad_pem_names_the_field():
    with pytest.raises(ValidationError) as err:
        rsa_keys.verify("nonsense", b"x", b"y")
    assert err.value.field == "publicKey"
