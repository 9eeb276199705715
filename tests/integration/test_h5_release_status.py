"""An H5 version's release status is derived from its tasks (like an upgrade package's), shown by the
console API (``releaseStatus``) and the OpenAPI (``PublishPeriod``, ``ReleaseVersion``)."""

from __future__ import annotations

from tests.conftest import ws_path
from tests.integration.test_openapi_h5 import (  # noqa: F401 - fixtures of the H5 OpenAPI tests
    _resource,
    _whitelist,
    api_base,
    h5_ready,
    ok,
    rpc,
)

H5 = "12345678"


def _both(admin, demo, endpoint: str, resource_id: str) -> tuple[str, int, str]:
    rest = admin.get(ws_path(demo, f"/h5/resources/{resource_id}")).body["releaseStatus"]
    listed = ok(rpc(endpoint, demo, "ListMcubeNebulaResources", H5Id=H5, PageNum="1", PageSize="10"),
                "ListMcubeNebulaResourceResult")["NebulaResourceInfo"]  # fmt: skip
    wire = next(r for r in listed if str(r["Id"]) == resource_id)
    listed_rest = admin.get(ws_path(demo, f"/h5/apps/{H5}/resources")).body["items"]
    assert next(r for r in listed_rest if r["id"] == resource_id)["releaseStatus"] == rest
    return rest, wire["PublishPeriod"], wire["ReleaseVersion"]


def test_gray_official_ended_as_the_tasks_go(h5_ready, demo, admin, tmp_path):  # noqa: F811
    resource_id = ok(_resource(h5_ready, demo, tmp_path), "CreateMcubeNebulaResourceReslult")[
        "NebulaResourceId"
    ]
    assert _both(admin, demo, h5_ready, resource_id) == ("toBeReleased", 0, "")
    gray = ok(
        rpc(h5_ready, demo, "CreateMcubeNebulaTask", PackageId=resource_id, PublishType="2", PublishMode="1",
            WhitelistIds=_whitelist(admin, demo)),
        "CreateMcubeNebulaTaskResult",
    )["NebulaTaskId"]  # fmt: skip
    assert _both(admin, demo, h5_ready, resource_id) == ("grayRelease", 1, "1.0.0.1")
    tasks = ws_path(demo, "/h5/tasks")
    assert admin.post(f"{tasks}/{gray}/status", {"action": "pause"}).status == 200
    assert _both(admin, demo, h5_ready, resource_id) == ("paused", 3, "1.0.0.1")
    official = ok(
        rpc(h5_ready, demo, "CreateMcubeNebulaTask", PackageId=resource_id, PublishType="3"),
        "CreateMcubeNebulaTaskResult",
    )["NebulaTaskId"]
    assert _both(admin, demo, h5_ready, resource_id) == ("officialRelease", 2, "1.0.0.1")
    for task_id in (gray, official):
        assert admin.post(f"{tasks}/{task_id}/status", {"action": "end"}).status == 200
    assert _both(admin, demo, h5_ready, resource_id) == ("finished", 4, "1.0.0.1")
