import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib import config
from chalicelib.domain.audit import REDACTED, redact
from chalicelib.security import passwords, tokens
from chalicelib.security.secretbox import SecretBox

KEY = b"k" * 32


def test_password_hash_verifies_and_rejects(monkeypatch):
    monkeypatch.delenv("MDS_PASSWORD_SCRYPT_LOG2_N")
    config.reload()
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("scrypt$15$8$1$")  # the default cost: 32 MiB per hash
    assert passwords.verify_password("correct horse battery", stored)
    assert not passwords.verify_password("correct horse batterz", stored)
    assert not passwords.verify_password("x", "garbage")


def test_a_hash_keeps_verifying_after_the_cost_is_raised(monkeypatch):
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("scrypt$10$")  # the suite's cost (tests/conftest.py)
    monkeypatch.setenv("MDS_PASSWORD_SCRYPT_LOG2_N", "12")
    config.reload()
    assert passwords.hash_password("correct horse battery").startswith("scrypt$12$")
    assert passwords.verify_password("correct horse battery", stored)


@pytest.mark.parametrize("value", ["9", "21", "fast", "-1"])
def test_a_password_cost_out_of_range_is_a_configuration_error(monkeypatch, value):
    monkeypatch.setenv("MDS_PASSWORD_SCRYPT_LOG2_N", value)
    with pytest.raises(ValueError, match="MDS_PASSWORD_SCRYPT_LOG2_N must be a whole number from 10 to 20"):
        config.reload()
    monkeypatch.setenv("MDS_PASSWORD_SCRYPT_LOG2_N", "10")  # for the teardown's reload


def test_password_hashes_are_salted():
    assert passwords.hash_password("same password") != passwords.hash_password("same password")


def test_token_round_trip_and_expiry():
    token, claims = tokens.issue("alice", key=KEY, now=1000, ttl_seconds=60)
    assert tokens.verify(token, key=KEY, now=1059).subject == "alice"
    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.verify(token, key=KEY, now=1060)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t + "x",
        lambda t: t.replace("mds1.", "mds2."),
        lambda t: "mds1." + t.split(".")[1] + ".AAAA",
        lambda t: "not-a-token",
        lambda t: "",
    ],
)
def test_forged_tokens_are_refused(mutate):
    token, _ = tokens.issue("alice", key=KEY, now=1000, ttl_seconds=60)
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(mutate(token), key=KEY, now=1001)


def test_token_from_another_key_is_refused():
    token, _ = tokens.issue("alice", key=b"o" * 32, now=1000, ttl_seconds=60)
    with pytest.raises(tokens.InvalidToken, match="signature"):
        tokens.verify(token, key=KEY, now=1001)


@given(st.binary(max_size=512), st.text(max_size=40))
def test_secretbox_round_trip(plaintext, context):
    box = SecretBox(KEY)
    assert (
        box.open(box.seal(plaintext, purpose="p", context=context), purpose="p", context=context) == plaintext
    )


def test_secretbox_binds_context_and_purpose():
    box = SecretBox(os.urandom(32))
    sealed = box.seal(b"secret", purpose="access-key-secret", context="A#w/KEY1")
    with pytest.raises(ValueError):
        box.open(sealed, purpose="access-key-secret", context="B#w/KEY1")
    with pytest.raises(ValueError):
        box.open(sealed, purpose="other", context="A#w/KEY1")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(ValueError):
        box.open(tampered, purpose="access-key-secret", context="A#w/KEY1")


def test_redaction_reaches_nested_secrets():
    value = {"name": "k", "accessKeySecret": "s", "nested": [{"password": "p", "ok": 1}], "privateKey": "pem"}
    assert redact(value) == {
        "name": "k",
        "accessKeySecret": REDACTED,
        "nested": [{"password": REDACTED, "ok": 1}],
        "privateKey": REDACTED,
    }
