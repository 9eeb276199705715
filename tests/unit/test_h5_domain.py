"""H5 rules without I/O: IDs, client ranges, main URL, extend info, resource specs, tasks, priority."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain import h5
from chalicelib.domain.errors import Conflict, MissingParameter, ValidationError
from chalicelib.domain.release_tasks import TaskState
from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.versions import Version

NOW = 1_800_000_000
APP = h5.H5App("12345678", "Home", h5.ResourceType.NORMAL, "t", "u", "t")


def spec(**fields):
    base = {
        "h5Id": "12345678",
        "h5Name": "Home",
        "version": "1.0.0.1",
        "platform": "all",
        "clientVersionMin": "10.1.32;10.2.0",
        "mainUrl": "/www/index.html",
    }
    return {**base, **fields}


def parse(**fields):
    return h5.parse_resource_spec(spec(**fields), app=APP, configured_vhost="h5app.com")


def resource(version="1.0.0.1", rid="1", **changes):
    made = h5.resource_from_spec(
        parse(version=version), resource_id=rid, status=h5.ResourceStatus.READY, at="t", by="u",
        upload_id=None, cdn_prefix="h5/x/",
    )  # fmt: skip
    files = h5.PackageFiles("a/x.amr", "a/h5.json", "h5/x/", 10, "s" * 64, "m" * 32, "kid")
    return replace(made, files=files, **changes)


@pytest.mark.parametrize("value", ["20000196", "66666692", "68687029", "68687209"])
def test_reserved_ids_are_refused(value):
    with pytest.raises(ValidationError, match="reserved") as refused:
        h5.check_h5_id(value)
    assert refused.value.field == "h5Id"


@pytest.mark.parametrize(("value", "warned"), [("66666601", True), ("20000777", True), ("12345678", False)])
def test_discouraged_prefixes_warn(value, warned):
    assert h5.check_h5_id(value)[0] == value and bool(h5.check_h5_id(value)[1]) is warned


@pytest.mark.parametrize("value", ["1234567", "123456789", "1234567a", " ", True, 12.5])
def test_ids_are_exactly_eight_digits(value):
    with pytest.raises(ValidationError):
        h5.check_h5_id(value)


def test_client_ranges_story_5():
    ranges = h5.parse_client_ranges(Platform.ALL, "10.1.32;10.2.0", "")
    assert Version.parse("10.1.40") in ranges[Platform.IOS]
    assert Version.parse("10.1.4") not in ranges[Platform.IOS]
    assert Version.parse("10.2.0") in ranges[Platform.ANDROID]
    assert Version.parse("10.1.99") not in ranges[Platform.ANDROID]
    assert h5.ranges_text(ranges, "min") == "10.1.32;10.2.0" and h5.ranges_text(ranges, "max") == ""


def test_client_ranges_single_platform_and_equal_bounds():
    ranges = h5.parse_client_ranges(Platform.ANDROID, ";1.0.0", ";1.0.0")
    assert list(ranges) == [Platform.ANDROID] and Version.parse("1.0") in ranges[Platform.ANDROID]
    assert h5.ranges_text(ranges, "min") == ";1.0.0"


@pytest.mark.parametrize(
    ("platform", "low", "high", "field", "words"),
    [
        (Platform.ALL, "10.3;10.2", "10.2;10.3", "clientVersionMin", "higher than the maximum"),
        (Platform.ALL, "10.3;10.2", "10.4;", "clientVersionMax", "both"),
        (Platform.ALL, ";10.2", "", "clientVersionMin", "ios minimum"),
        (Platform.IOS, "10.3", "", "clientVersionMin", ";"),
        (Platform.IOS, "a-b;1", "", "clientVersionMin", "dot-separated"),
        (Platform.ANDROID, "1;1", 5, "clientVersionMax", "<ios>;<android>"),
    ],
)
def test_bad_client_ranges(platform, low, high, field, words):
    with pytest.raises(ValidationError) as refused:
        h5.parse_client_ranges(platform, low, high)
    assert refused.value.field == field and words in refused.value.rule


@pytest.mark.parametrize("url", ["/www/index.html", "/www/sub dir/a_b.html"])
def test_main_url_matches_the_mpaas_regex(url):
    assert h5.check_main_url(url, h5.ResourceType.NORMAL) == url


@pytest.mark.parametrize(
    "url", ["www/index.html", "/www/index.htm", "/www/../a.html", "/www/a-b.html", "/a.html?x"]
)
def test_main_url_failing_the_regex_is_refused(url):
    with pytest.raises(ValidationError, match="must match") as refused:
        h5.check_main_url(url, h5.ResourceType.NORMAL)
    assert refused.value.field == "mainUrl"


def test_main_url_is_required_for_normal_packages_only():
    with pytest.raises(MissingParameter):
        h5.check_main_url("", h5.ResourceType.NORMAL)
    assert h5.check_main_url(None, h5.ResourceType.GLOBAL) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('{"asyncReqRate": "1800"}', '{"asyncReqRate":1800}'),
        ({"asyncReqRate": 0, "x": "y"}, '{"asyncReqRate":0,"x":"y"}'),
        ({"asyncReqRate": 86400}, '{"asyncReqRate":86400}'),
        ("", ""),
        (None, ""),
    ],
)
def test_extend_info(value, expected):
    assert h5.parse_extend_info(value) == expected


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ('{"asyncReqRate": 86401}', "extendInfo.asyncReqRate"),
        ({"asyncReqRate": -1}, "extendInfo.asyncReqRate"),
        ({"asyncReqRate": 1.5}, "extendInfo.asyncReqRate"),
        ("{not json", "extendInfo"),
        ("[1, 2]", "extendInfo"),
    ],
)
def test_bad_extend_info(value, field):
    with pytest.raises(ValidationError) as refused:
        h5.parse_extend_info(value)
    assert refused.value.field == field


def test_a_full_resource_spec():
    parsed = parse(platform="iOS", clientVersionMin="1.0;", downloadNetwork="0", installType=1,
                   extendInfo={"asyncReqRate": 60}, vhost="H5APP.com")  # fmt: skip
    assert parsed.platform is Platform.IOS and list(parsed.client_ranges) == [Platform.IOS]
    assert (parsed.download_network, parsed.install_type, parsed.vhost) == (0, 1, "h5app.com")
    assert parsed.resource_type is h5.ResourceType.NORMAL  # from the app


@pytest.mark.parametrize(
    ("fields", "error", "field"),
    [
        ({"resourceType": "global"}, Conflict, "resourceType"),
        ({"resourceType": 0}, Conflict, "resourceType"),
        ({"vhost": "other.com"}, ValidationError, "vhost"),
        ({"repeatNebula": 2}, ValidationError, "repeatNebula"),
        ({"installType": 2}, ValidationError, "installType"),
        ({"version": ""}, MissingParameter, "version"),
        ({"bogus": 1}, ValidationError, "bogus"),
        ({"h5Id": "87654321"}, ValidationError, "h5Id"),
    ],
)
def test_bad_resource_specs(fields, error, field):
    with pytest.raises(error) as refused:
        parse(**fields)
    assert refused.value.field == field


def test_without_a_vhost_nothing_can_be_created():
    with pytest.raises(Conflict) as refused:
        h5.parse_resource_spec(spec(), app=APP, configured_vhost=None)
    assert refused.value.field == "vhost"


def test_a_new_app_needs_a_type_and_global_packages_need_no_main_url():
    with pytest.raises(MissingParameter):
        h5.parse_resource_spec(spec(), app=None, configured_vhost="h5app.com")
    made = h5.parse_resource_spec(
        spec(resourceType=0, mainUrl="", repeatNebula=1), app=None, configured_vhost="h5app.com"
    )
    assert made.resource_type is h5.ResourceType.GLOBAL and made.repeat_nebula == 1


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        ([], "0.0.0.1"),
        (["1.0.0.9", "1.0.0.2"], "1.0.0.10"),
        (["2.1", "10.0"], "10.1"),
        (["1.0.0.3b"], "1.0.0.4"),
    ],
)
def test_batch_default_versions(versions, expected):
    assert h5.next_version(Version.parse(v) for v in versions) == expected


def test_vhost_rules():
    assert h5.check_vhost(" H5App.com ") == "h5app.com"
    for bad in ("h5app", "http://a.com", "a.com:80", "a.com/x", "1.2.3.4", "-a.com"):
        with pytest.raises(ValidationError):
            h5.check_vhost(bad)


# --- tasks -----------------------------------------------------------------------------------------


def make_task(data, *, res=None, live=0, task_id="7"):
    return h5.new_task(res or resource(), data, task_id=task_id, live_tasks=live, now=NOW, at="t", by="u")


def test_task_kinds_and_lifecycle():
    official = make_task({"type": "official"})
    assert official.kind == "official" and official.state is TaskState.RUNNING
    paused = official.pause(now=NOW, at="t2")
    assert paused.status(NOW) is TaskState.PAUSED
    ended = paused.resume(now=NOW, at="t3").end(now=NOW, at="t4")
    with pytest.raises(Conflict):
        ended.resume(now=NOW, at="t5")
    window = make_task({"type": 2, "grayModel": 2, "endTime": NOW + 3600, "usersCount": "5"})
    assert window.kind == "timeWindow" and window.dynamic and window.users_count == 5
    listed = make_task({"type": "gray", "grayModel": "whitelist", "whitelistIds": "12, 34"})
    assert listed.target.whitelist_ids == ("12", "34")
    assert window.status(NOW + 3600) is TaskState.ENDED


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"type": "gray", "grayModel": "time_window", "endTime": "2027-01-24 00:00:00", "usersCount": 1},
         "endTime", "7 days"),
        ({"type": "gray", "grayModel": "time_window", "endTime": NOW - 1, "usersCount": 1}, "endTime", "future"),
        ({"type": "gray", "grayModel": "time_window", "endTime": NOW + 60, "usersCount": 0}, "usersCount", "from 1"),
        ({"type": "gray", "grayModel": "whitelist"}, "whitelistIds", "at least one"),
        ({"type": "official", "rules": [{"type": "city", "operation": 1, "values": ["x"]}]}, "rules", "gray"),
        ({"type": "gray", "grayModel": "whitelist", "whitelistIds": ["1"],
          "rules": [{"type": "city", "operation": 9, "values": ["x"]}]}, "rules[0].operation", ""),
        ({"type": "beta"}, "type", "gray (2) or official (3)"),
        ({"type": "gray", "grayModel": "percent"}, "grayModel", "whitelist"),
        ({"type": "official", "color": 1}, "color", "unknown"),
    ],
)  # fmt: skip
def test_bad_tasks(data, field, words):
    with pytest.raises(ValidationError) as refused:
        make_task(data)
    assert refused.value.field == field and words in refused.value.rule


def test_a_task_end_time_8_days_out_is_refused_7_days_is_fine():
    base = {"type": "gray", "grayModel": "time_window", "usersCount": 3}
    assert make_task({**base, "endTime": NOW + 7 * 86400}).end_time == NOW + 7 * 86400
    with pytest.raises(ValidationError, match="7 days"):
        make_task({**base, "endTime": NOW + 8 * 86400})


def test_only_ready_resources_are_released_and_at_most_10_live_tasks():
    with pytest.raises(Conflict, match="processing"):
        make_task({"type": "official"}, res=resource(status=h5.ResourceStatus.PROCESSING))
    with pytest.raises(Conflict, match="10 live"):
        make_task({"type": "official"}, live=10)


def test_priority_higher_version_then_kind_then_most_recent():
    r1, r2 = resource("1.0.0.1", "1"), resource("1.0.0.2", "2")
    official_1 = make_task({"type": "official"}, res=r1, task_id="10")
    gray_2 = make_task(
        {"type": "gray", "grayModel": "whitelist", "whitelistIds": ["5"]}, res=r2, task_id="11"
    )
    window_2 = make_task({"type": "gray", "grayModel": "time_window", "endTime": NOW + 60, "usersCount": 1},
                         res=r2, task_id="12")  # fmt: skip
    official_2 = make_task({"type": "official"}, res=r2, task_id="13")
    later_official_2 = replace(make_task({"type": "official"}, res=r2, task_id="14"), created_at="u")
    ordered = h5.in_priority_order([official_1, window_2, gray_2, official_2, later_official_2])
    assert [t.id for t in ordered] == ["14", "13", "11", "12", "10"]


def test_device_target_uses_the_resource_range_of_the_platform():
    r = resource(client_ranges=h5.parse_client_ranges(Platform.IOS, "10.1.32;", ""))
    task = make_task({"type": "gray", "grayModel": "whitelist", "whitelistIds": ["5"],
                      "rules": [{"type": "city", "operation": 2, "values": ["Beijing"]}]}, res=r)  # fmt: skip
    assert h5.device_target(task, r, Platform.ANDROID) is None
    target = h5.device_target(task, r, Platform.IOS).compile()

    class Members:
        def contains(self, whitelist_id, user_id):
            return user_id == "alice"

    def sees(**ctx):
        return target.matches(Device("ios", user_id="alice", **ctx), Members())

    assert sees(client_version="10.1.40", city="Shanghai")
    assert not sees(client_version="10.1.4", city="Shanghai")
    assert not sees(client_version="10.1.40", city="Beijing")


def test_payload_has_what_the_client_needs():
    r = resource()
    data = h5.payload(r, make_task({"type": "official"}, res=r), amr_url="https://cdn/x.amr", h5json_url="j")
    assert {"h5Id", "version", "amrUrl", "sha256", "size", "keyId", "mainUrl", "installType"} <= set(data)
