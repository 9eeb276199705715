"""The console API through its HTTP surface, on moto: auth, roles, tenancy, bad input, audit."""

from __future__ import annotations

import concurrent.futures
from urllib.parse import quote

import pytest

from tests.conftest import ws_path


def test_login_and_me(admin, demo):
    reply = admin.get("/api/me")
    assert reply.status == 200
    assert reply.body["principal"] == "user:admin"
    assert reply.body["isSuperuser"] is True
    assert [w["appId"] for w in reply.body["workspaces"]] == [demo["appId"]]
    assert reply.body["workspaces"][0]["role"] == "admin"
    assert reply.headers["x-mds-request-id"]


def test_wrong_password_is_401_and_names_nothing(api, demo):
    reply = api.post("/api/auth/login", {"username": "admin", "password": "wrong-password"})
    assert reply.status == 401
    assert reply.body["code"] == "Unauthorized"
    assert reply.body["requestId"]
    unknown = api.post("/api/auth/login", {"username": "nobody", "password": "wrong-password"})
    assert unknown.status == 401 and unknown.body["message"] == reply.body["message"]


def test_failed_logins_are_rate_limited_per_user(api, demo):
    for _ in range(5):
        assert api.post("/api/auth/login", {"username": "admin", "password": "wrong-password"}).status == 401
    limited = api.post("/api/auth/login", {"username": "admin", "password": demo["password"]})
    assert limited.status == 429
    assert limited.body["code"] == "Throttling"
    assert int(limited.headers["Retry-After"]) > 0


def test_failed_logins_are_rate_limited_per_ip(api, demo):
    for n in range(30):
        api.post("/api/auth/login", {"username": f"guess{n:03d}", "password": "wrong-password"})
    assert api.post("/api/auth/login", {"username": "admin", "password": demo["password"]}).status == 429


@pytest.mark.parametrize(
    ("token", "why"),
    [(None, "missing"), ("mds1.e30.AAAA", "forged"), ("garbage", "malformed")],
)
def test_missing_or_forged_token_is_401(api, demo, token, why):
    reply = api.get("/api/me", token=token or "")
    assert reply.status == 401, why


def test_expired_token_is_401(api, demo):
    from datetime import UTC, datetime, timedelta

    from chalicelib.config import settings
    from chalicelib.services import auth

    issued = datetime.now(UTC) - timedelta(seconds=settings().token_ttl_seconds + 1)
    session = auth.login(
        demo["username"], demo["password"], source_ip=None, now=issued
    )  # a clock in the past
    reply = api.get("/api/me", token=session.token)
    assert reply.status == 401 and "expired" in reply.body["message"]
    assert api.get("/api/me", token=api.login(demo["username"], demo["password"])).status == 200


def test_create_user_then_log_in_as_them(admin, demo):
    reply = admin.post(
        ws_path(demo, "/users"), {"username": "qa.lead", "password": "a-long-password", "role": "viewer"}
    )
    assert reply.status == 201, reply.body
    assert reply.body["role"] == "viewer"
    token = admin.login("qa.lead", "a-long-password")
    me = admin.get("/api/me", token=token).body
    assert me["workspaces"][0]["role"] == "viewer"


def test_duplicate_user_is_409_and_nothing_changes(admin, demo):
    body = {"username": "rm1", "password": "a-long-password", "role": "release_manager"}
    assert admin.post(ws_path(demo, "/users"), body).status == 201
    again = admin.post(ws_path(demo, "/users"), {**body, "role": "admin"})
    assert again.status == 409
    users = {u["username"]: u["role"] for u in admin.get(ws_path(demo, "/users")).body["users"]}
    assert users["rm1"] == "release_manager"


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"username": "x1y", "password": "a-long-password"}, "role", "is required"),
        (
            {"username": "x1y", "password": "a-long-password", "role": "viewer", "extra": 1},
            "extra",
            "is not a known field",
        ),
        ({"username": 12, "password": "a-long-password", "role": "viewer"}, "username", "must be a string"),
        (
            {"username": "x1y", "password": "short", "role": "viewer"},
            "password",
            "must be 10-256 characters long",
        ),
        ({"username": "x1y", "password": "a-long-password", "role": "owner"}, "role", "must be one of"),
        (
            {"username": "BAD NAME", "password": "a-long-password", "role": "viewer"},
            "username",
            "3-64 characters",
        ),
    ],
)
def test_bad_bodies_name_the_field(admin, demo, body, field, rule):
    reply = admin.post(ws_path(demo, "/users"), body)
    assert reply.status == 400, reply.body
    assert reply.body["field"] == field
    assert rule in reply.body["message"]
    assert admin.get(ws_path(demo, "/users")).body["users"].__len__() == 1  # nothing half-written


def test_malformed_json_and_oversized_bodies(admin, demo, monkeypatch):
    bad = admin.post(ws_path(demo, "/users"), raw=b"{not json")
    assert bad.status == 400 and bad.body["field"] == "body"
    not_object = admin.post(ws_path(demo, "/users"), raw=b"[1,2]")
    assert not_object.status == 400 and "object" in not_object.body["message"]
    monkeypatch.setenv("MDS_MAX_BODY_BYTES", "100")
    from chalicelib import config

    config.reload()
    big = admin.post(ws_path(demo, "/users"), {"username": "x" * 200, "password": "p" * 20, "role": "viewer"})
    assert big.status == 413 and big.body["field"] == "body"


def test_viewer_cannot_manage_users_and_the_attempt_is_audited(admin, demo):
    admin.post(
        ws_path(demo, "/users"), {"username": "viewer1", "password": "a-long-password", "role": "viewer"}
    )
    viewer_token = admin.login("viewer1", "a-long-password")
    reply = admin.post(
        ws_path(demo, "/users"),
        {"username": "sneaky", "password": "a-long-password", "role": "admin"},
        token=viewer_token,
    )
    assert reply.status == 403
    assert reply.body["code"] == "Forbidden.AccessDenied"
    assert admin.post(ws_path(demo, "/access-keys"), {"role": "admin"}, token=viewer_token).status == 403
    log = admin.get(ws_path(demo, "/audit?actor=user:viewer1")).body["entries"]
    assert {e["action"] for e in log} == {"user.create", "access_key.create"}
    assert {e["outcome"] for e in log} == {"denied"}
    usernames = [u["username"] for u in admin.get(ws_path(demo, "/users")).body["users"]]
    assert "sneaky" not in usernames


def test_other_tenants_are_invisible(admin, demo):
    created = admin.post("/api/workspaces", {"appId": "OTHER_APP", "workspaceId": "prod", "name": "Other"})
    assert created.status == 201
    admin.post(
        "/api/apps/OTHER_APP/workspaces/prod/users",
        {"username": "other.admin", "password": "a-long-password", "role": "admin"},
    )
    other = admin.login("other.admin", "a-long-password")
    # an existing workspace they have no role in looks exactly like one that does not exist
    existing = admin.get(ws_path(demo, "/users"), token=other)
    missing = admin.get("/api/apps/NOPE/workspaces/none/users", token=other)
    assert existing.status == missing.status == 404
    assert existing.body["code"] == missing.body["code"] == "NotFound"
    key = admin.post(ws_path(demo, "/access-keys"), {"role": "viewer"}).body["accessKeyId"]
    # revoking the demo tenant's key from inside another tenant is a 404, and the key stays active
    assert admin.post(f"/api/apps/OTHER_APP/workspaces/prod/access-keys/{key}/revoke").status == 404
    assert [
        k["status"]
        for k in admin.get(ws_path(demo, "/access-keys")).body["accessKeys"]
        if k["accessKeyId"] == key
    ] == ["active"]


def test_only_superusers_create_workspaces(admin, demo):
    admin.post(
        ws_path(demo, "/users"), {"username": "plain.admin", "password": "a-long-password", "role": "admin"}
    )
    token = admin.login("plain.admin", "a-long-password")
    reply = admin.post("/api/workspaces", {"appId": "X1", "workspaceId": "w", "name": "x"}, token=token)
    assert reply.status == 403
    assert (
        admin.post(
            "/api/workspaces", {"appId": demo["appId"], "workspaceId": demo["workspaceId"], "name": "dup"}
        ).status
        == 409
    )


def test_access_keys_secret_shown_once_and_revocable(admin, demo):
    created = admin.post(ws_path(demo, "/access-keys"), {"role": "release_manager", "description": "CI"})
    assert created.status == 201
    assert len(created.body["accessKeySecret"]) == 40
    listed = admin.get(ws_path(demo, "/access-keys")).body["accessKeys"]
    assert all("accessKeySecret" not in k for k in listed)
    key_id = created.body["accessKeyId"]
    revoked = admin.post(ws_path(demo, f"/access-keys/{key_id}/revoke"))
    assert revoked.status == 200 and revoked.body["status"] == "revoked"
    assert admin.post(ws_path(demo, f"/access-keys/{key_id}/revoke")).status == 409
    audit = admin.get(ws_path(demo, f"/audit?entityType=access_key&entityId={key_id}")).body["entries"]
    assert [e["action"] for e in audit] == ["access_key.revoke", "access_key.create"]
    assert all("accessKeySecret" not in (e["after"] or {}) for e in audit)


def test_audit_records_before_and_after(admin, demo):
    admin.post(
        ws_path(demo, "/users"), {"username": "promo", "password": "a-long-password", "role": "viewer"}
    )
    changed = admin.put(ws_path(demo, "/users/promo"), {"role": "release_manager"})
    assert changed.status == 200 and changed.body["version"] == 2
    entries = admin.get(ws_path(demo, "/audit?entityType=user&entityId=promo")).body["entries"]
    update = entries[0]
    assert update["action"] == "user.update"
    assert update["before"]["role"] == "viewer" and update["after"]["role"] == "release_manager"
    assert update["actor"] == "user:admin"
    assert entries[1]["action"] == "user.create"
    assert "password" not in (entries[1]["after"] or {})


def test_audit_filters_by_time_and_pages(admin, demo):
    for n in range(5):
        admin.post(
            ws_path(demo, "/users"), {"username": f"user{n}", "password": "a-long-password", "role": "viewer"}
        )
    first = admin.get(ws_path(demo, "/audit?entityType=user&limit=2")).body
    assert len(first["entries"]) == 2 and first["nextCursor"]
    second = admin.get(ws_path(demo, f"/audit?entityType=user&limit=2&cursor={first['nextCursor']}")).body
    assert [e["entityId"] for e in second["entries"]] == ["user2", "user1"]
    middle = first["entries"][1]["at"]
    since = admin.get(ws_path(demo, f"/audit?entityType=user&since={quote(middle)}")).body["entries"]
    assert [e["entityId"] for e in since] == ["user4", "user3"]
    bad = admin.get(ws_path(demo, "/audit?since=yesterday"))
    assert bad.status == 400 and bad.body["field"] == "since"


def test_stale_version_is_409(admin, demo):
    admin.post(ws_path(demo, "/users"), {"username": "ver", "password": "a-long-password", "role": "viewer"})
    assert admin.put(ws_path(demo, "/users/ver"), {"role": "admin", "version": 1}).status == 200
    stale = admin.put(ws_path(demo, "/users/ver"), {"role": "viewer", "version": 1})
    assert stale.status == 409 and stale.body["code"] == "ConcurrentModification"


def test_concurrent_edits_one_wins_one_conflicts(aws, demo):
    """Two edits that both read version 1: exactly one commits; the loser gets VersionConflict."""
    from chalicelib.domain.access import Principal, PrincipalKind, Role
    from chalicelib.domain.errors import VersionConflict
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.services import workspaces
    from chalicelib.services.context import Call
    from chalicelib.store import directory

    tenant = TenantId(demo["appId"], demo["workspaceId"])
    admin = Call(Principal(PrincipalKind.USER, "admin", roles={tenant: Role.ADMIN}), request_id="r1")
    workspaces.create_user(admin, tenant, username="racer", password="a-long-password", role="viewer")

    results = []

    def edit(role):
        try:
            workspaces.change_role(admin, tenant, "racer", role=role, expected_version=1)
            results.append(role)
        except VersionConflict:
            results.append("conflict")

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(edit, ["admin", "release_manager"]))
    assert sorted(results).count("conflict") == 1
    winner = next(r for r in results if r != "conflict")
    assert directory.get_membership(tenant, "racer").role.value == winner


def test_admin_cannot_lock_themselves_out(admin, demo):
    assert admin.put(ws_path(demo, "/users/admin"), {"role": "viewer"}).status == 409
    assert admin.delete(ws_path(demo, "/users/admin")).status == 409


def test_remove_user(admin, demo):
    admin.post(
        ws_path(demo, "/users"), {"username": "leaver", "password": "a-long-password", "role": "viewer"}
    )
    token = admin.login("leaver", "a-long-password")
    assert admin.delete(ws_path(demo, "/users/leaver")).status == 204
    assert admin.get(ws_path(demo), token=token).status == 404
    assert admin.delete(ws_path(demo, "/users/leaver")).status == 404
