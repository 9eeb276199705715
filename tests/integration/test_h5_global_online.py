"""Global H5 resources online (guide "Global resource package"): once a global version is released its
files are served unpacked by the CDN at its ``fallbackBaseUrl`` (``<CDN>/<appId>_<workspaceId>/<path>``,
the guide's ``http://domain/appId_ws/path``), so a page referencing them loads on a device without the
offline package; before the release nothing is online. Fetched over HTTP from the CDN emulator."""

from __future__ import annotations

import boto3
import pytest
import requests

from tests import h5_zips
from tests.builders import add_resource, configure, h5
from tests.integration.test_openapi_h5 import api_base, ok, rpc  # noqa: F401 - a fixture

H5 = "77777777"


@pytest.fixture
def cdn(aws):
    from mds.local.cdn import CdnServer

    server = CdnServer(boto3.client("s3", region_name="us-east-1"), aws.buckets["DeliveryBucket"], port=0)
    server.start()
    yield server
    server.stop()


def _online(cdn, fallback: str, path: str) -> requests.Response:
    from chalicelib.config import settings

    return requests.get(fallback.replace(settings().cdn_base_url, cdn.url) + path, timeout=10)


def test_a_released_global_package_is_online_at_its_fallback_base_url(
    admin,
    demo,
    aws,
    cdn,
    api_base,  # noqa: F811 - the imported fixture
    tmp_path,
):
    from chalicelib.security import rsa_keys

    configure(admin, demo, rsa_keys.private_key_pem(rsa_keys.generate_private_key()))
    assert (
        admin.post(h5(demo, "/apps"), {"h5Id": H5, "name": "Common", "resourceType": "global"}).status == 201
    )
    files = h5_zips.global_files(H5, demo["appId"], demo["workspaceId"])
    content = h5_zips.global_(tmp_path / "g.zip", H5, demo["appId"], demo["workspaceId"]).read_bytes()
    resource = add_resource(admin, demo, aws, content, h5_id=H5, resourceType="global", mainUrl=None)
    assert resource["status"] == "ready", resource
    fallback = resource["fallbackBaseUrl"]
    assert fallback.endswith(f"/{demo['appId']}_{demo['workspaceId']}/")
    assert _online(cdn, fallback, "common.js").status_code == 404  # not released yet

    task = admin.post(h5(demo, f"/resources/{resource['id']}/tasks"), {"type": "official"})
    assert task.status == 201, task.body
    base = f"{H5}/{h5_zips.DOMAIN}/{demo['appId']}_{demo['workspaceId']}/"
    for member, data in files.items():
        served = _online(cdn, fallback, member.removeprefix(base))
        assert served.status_code == 200 and served.content == data, member
    assert "javascript" in _online(cdn, fallback, "common.js").headers["Content-Type"]
    assert _online(cdn, fallback, "v1/antui.css").headers["Content-Type"].startswith("text/css")

    listed = ok(rpc(api_base, demo, "ListMcubeNebulaResources", H5Id=H5, PageNum="1", PageSize="5"),
                "ListMcubeNebulaResourceResult")["NebulaResourceInfo"]  # fmt: skip
    assert listed[0]["FallbackBaseUrl"] == f"{fallback};{fallback}"  # intranet;internet, both the CDN


def test_a_normal_package_has_no_fallback_base_url(admin, demo, aws, tmp_path):
    from chalicelib.security import rsa_keys

    configure(admin, demo, rsa_keys.private_key_pem(rsa_keys.generate_private_key()))
    admin.post(h5(demo, "/apps"), {"h5Id": "12345678", "name": "Shop", "resourceType": "normal"})
    content = h5_zips.normal(tmp_path / "n.zip", "12345678").read_bytes()
    resource = add_resource(admin, demo, aws, content)
    assert resource["status"] == "ready" and resource["fallbackBaseUrl"] is None
