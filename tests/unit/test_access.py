import pytest

from chalicelib.domain.access import (
    Permission,
    Principal,
    PrincipalKind,
    Role,
    authorize,
    validate_password,
    validate_username,
)
from chalicelib.domain.errors import Forbidden, NotFound, ValidationError
from chalicelib.domain.tenancy import TenantId

T1 = TenantId("APP1", "prod")
T2 = TenantId("APP2", "prod")


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        (Role.VIEWER, Permission.READ, True),
        (Role.VIEWER, Permission.RELEASE, False),
        (Role.VIEWER, Permission.ADMIN, False),
        (Role.RELEASE_MANAGER, Permission.READ, True),
        (Role.RELEASE_MANAGER, Permission.RELEASE, True),
        (Role.RELEASE_MANAGER, Permission.ADMIN, False),
        (Role.ADMIN, Permission.ADMIN, True),
    ],
)
def test_roles_are_ordered(role, permission, allowed):
    principal = Principal(PrincipalKind.USER, "u", roles={T1: role})
    if allowed:
        assert authorize(principal, T1, permission) is role
    else:
        with pytest.raises(Forbidden):
            authorize(principal, T1, permission)


def test_another_tenant_is_not_found_not_forbidden():
    principal = Principal(PrincipalKind.ACCESS_KEY, "k", roles={T1: Role.ADMIN})
    with pytest.raises(NotFound):
        authorize(principal, T2, Permission.READ)


def test_superuser_flag_grants_nothing_inside_a_workspace():
    principal = Principal(PrincipalKind.USER, "root", is_superuser=True)
    with pytest.raises(NotFound):
        authorize(principal, T1, Permission.READ)


@pytest.mark.parametrize("bad", ["ab", "UPPER", "has space", "x" * 65, "-lead", "", None, 5])
def test_username_rule(bad):
    with pytest.raises(ValidationError) as err:
        validate_username(bad)
    assert err.value.field == "username"


def test_password_length_rule():
    assert validate_password("0123456789") == "0123456789"
    with pytest.raises(ValidationError, match="password: must be 10-256"):
        validate_password("short")


@pytest.mark.parametrize("bad", ["", "a#b", "x" * 65, "_lead", "sp ace"])
def test_tenant_ids_are_validated(bad):
    with pytest.raises(ValidationError) as err:
        TenantId.parse(bad, "default")
    assert err.value.field == "appId"


def test_tenant_key_round_trip():
    t = TenantId.parse("ALIPUB059F038311550", "default")
    assert TenantId.from_key(t.key) == t


def test_role_parse_names_field_and_choices():
    with pytest.raises(ValidationError) as err:
        Role.parse("owner")
    assert err.value.field == "role" and "release_manager" in err.value.rule
