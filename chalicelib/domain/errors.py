"""The one error tree of MDS.

Every layer raises these; ``chalicelib.api.errors`` maps them, in one place, to REST JSON errors
(``{"code", "message", "field", "requestId"}``) and to mPaaS RPC errors.

    MdsError                          500 InternalError
    ├── ValidationError(field, rule)  400 InvalidParameter
    │   ├── MissingParameter(field)   400 MissingParameter
    │   └── UnsupportedVersion        400 InvalidVersion
    ├── PayloadTooLarge               413 PayloadTooLarge
    ├── AuthenticationError           401 Unauthorized
    │   ├── SignatureMissing          401 / RPC 400 MissingParameter
    │   ├── SignatureMismatch         401 / RPC 400 SignatureDoesNotMatch
    │   ├── UnknownAccessKey          401 / RPC 404 InvalidAccessKeyId.NotFound
    │   ├── AccessKeyInactive         401 / RPC 400 InvalidAccessKeyId.Inactive
    │   ├── TimestampExpired          401 / RPC 400 InvalidTimeStamp.Expired
    │   └── NonceUsed                 401 / RPC 400 SignatureNonceUsed
    ├── Forbidden                     403 Forbidden.AccessDenied
    ├── NotFound                      404 NotFound
    │   └── UnknownAction             404 InvalidAction.NotFound
    ├── Conflict                      409 Conflict
    │   └── VersionConflict           409 ConcurrentModification
    └── RateLimited(retry_after)      429 Throttling

``STATUS_CODE`` is the REST status; ``RPC_STATUS`` the status the official mPaaS SDKs expect for
the same failure (spec/mpaas-openapi-wire.md §5.2); ``CODE`` the machine-readable code in both.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class MdsError(Exception):
    STATUS_CODE = 500
    RPC_STATUS: int | None = None  # None: same as STATUS_CODE
    CODE = "InternalError"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def rpc_status(self) -> int:
        return self.RPC_STATUS if self.RPC_STATUS is not None else self.STATUS_CODE


class ValidationError(MdsError):
    """Bad input: names the field and the rule it broke."""

    STATUS_CODE = 400
    CODE = "InvalidParameter"

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}", field=field)
        self.rule = rule


class MissingParameter(ValidationError):
    CODE = "MissingParameter"

    def __init__(self, field: str) -> None:
        super().__init__(field, "is required")


class UnsupportedVersion(ValidationError):
    CODE = "InvalidVersion"


class PayloadTooLarge(MdsError):
    STATUS_CODE = 413
    CODE = "PayloadTooLarge"


class AuthenticationError(MdsError):
    STATUS_CODE = 401
    RPC_STATUS = 400
    CODE = "Unauthorized"


class SignatureMissing(AuthenticationError):
    CODE = "MissingParameter"


class SignatureMismatch(AuthenticationError):
    CODE = "SignatureDoesNotMatch"

    def __init__(self, string_to_sign: str) -> None:
        # aliyunsdkcore splits this message on ':' and reads [1]; keep exactly one colon before the
        # string to sign so the old SDK can show the user what the server signed.
        super().__init__(
            "Specified signature does not match our calculation. server string to sign is:" + string_to_sign
        )
        self.string_to_sign = string_to_sign


class UnknownAccessKey(AuthenticationError):
    RPC_STATUS = 404
    CODE = "InvalidAccessKeyId.NotFound"


class AccessKeyInactive(AuthenticationError):
    CODE = "InvalidAccessKeyId.Inactive"


class TimestampExpired(AuthenticationError):
    CODE = "InvalidTimeStamp.Expired"


class NonceUsed(AuthenticationError):
    CODE = "SignatureNonceUsed"


class Forbidden(MdsError):
    STATUS_CODE = 403
    CODE = "Forbidden.AccessDenied"


class NotFound(MdsError):
    STATUS_CODE = 404
    CODE = "NotFound"


class UnknownAction(NotFound):
    CODE = "InvalidAction.NotFound"


class Conflict(MdsError):
    STATUS_CODE = 409
    CODE = "Conflict"


class VersionConflict(Conflict):
    """Someone else changed the item since it was read (optimistic locking)."""

    CODE = "ConcurrentModification"


class RateLimited(MdsError):
    STATUS_CODE = 429
    CODE = "Throttling"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


def present(value: T | None, what: str) -> T:
    """``value``, which an earlier rule guarantees is there (e.g. a ready resource has files). Missing
    is our bug, not the caller's: a 500 InternalError with the request ID, never an ``assert`` (which
    ``python -O`` would strip)."""
    if value is None:
        raise MdsError(f"internal error: {what} is missing")
    return value
