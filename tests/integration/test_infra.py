"""infra/template.json: the packaged SAM template lints clean; its plain-CloudFormation part deploys in moto.

moto's CloudFormation has no SAM transform, so the moto tests run `plain_cloudformation(infra/template.json)`:
the tables, buckets, queues and KMS key exactly as declared, without what moto cannot create.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mds import deploy

TEMPLATE = json.loads(deploy.MERGE_TEMPLATE.read_text())
STAGE = "prod"
# What the moto tests leave out, and why. Everything else in infra/template.json must reach CREATE_COMPLETE.
NOT_IN_MOTO = {
    "AWS::Serverless::": "SAM resources need the transform, which moto lacks",
    "AWS::CloudFront::": "moto skips distributions, and a GetAtt on one fails",
    "AWS::ApiGateway::": "the custom domain maps onto Chalice's RestAPI (SAM)",
    "AWS::S3::BucketPolicy": "no moto CloudFormation support",
    "AWS::SQS::QueuePolicy": "no moto CloudFormation support",
}
# Resources moto must create: the state the app and the local stack depend on.
MUST_CREATE = (
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
)


def references(node: Any) -> set[str]:
    """Logical ids a template fragment points at (Ref, GetAtt, ${Sub} variables)."""
    if isinstance(node, list):
        return set().union(*map(references, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found: set[str] = set()
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            found.add(value.split(".")[0])
        elif key == "Fn::GetAtt":
            found.add(value[0] if isinstance(value, list) else value.split(".")[0])
        elif key == "Fn::Sub":
            text = value[0] if isinstance(value, list) else value
            found |= {
                v.split(".")[0] for v in re.findall(r"\$\{([^}!]+)\}", text) if not v.startswith("AWS::")
            }
            found |= references(value[1] if isinstance(value, list) else [])
        else:
            found |= references(value)
    return found


def plain_cloudformation(template: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """(template moto can create, logical ids left out).

    Leaves out the NOT_IN_MOTO types, SAM Globals, and entries without a Type (patches to Chalice's own
    resources, e.g. DefaultRole's policy). Outputs naming a left-out resource go too; a kept resource
    that references one is an error, so nothing is dropped silently.
    """
    plain = copy.deepcopy(template)
    plain.pop("Globals", None)
    resources = plain["Resources"]
    left_out = {
        name
        for name, r in resources.items()
        if "Type" not in r or any(r["Type"].startswith(prefix) for prefix in NOT_IN_MOTO)
    }
    for name in left_out:
        del resources[name]
    for name, resource in resources.items():
        if "DependsOn" in resource:
            depends = resource["DependsOn"]
            depends = [depends] if isinstance(depends, str) else depends
            resource["DependsOn"] = [d for d in depends if d not in left_out]
        dangling = references(resource) & left_out
        assert not dangling, f"{name} references {dangling}, which moto cannot create"
    plain["Outputs"] = {k: v for k, v in plain.get("Outputs", {}).items() if not references(v) & left_out}
    return plain, left_out


# --- the packaged SAM template ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m mds.deploy package` output for one stage (about 5 s: chalice builds deployment.zip)."""
    return deploy.package(STAGE, tmp_path_factory.mktemp("package") / STAGE)


@pytest.mark.slow
def test_packaged_template_passes_cfn_lint(sam: Path) -> None:
    assert (sam.parent / "deployment.zip").stat().st_size > 0
    cfn_lint = Path(sys.executable).with_name("cfn-lint")  # the venv's console script; no `python -m cfnlint`
    lint = subprocess.run([str(cfn_lint), str(sam)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.slow
def test_packaged_template_wires_the_lambdas_to_the_stack(sam: Path) -> None:
    template = json.loads(sam.read_text())
    resources = template["Resources"]
    functions = {n: r for n, r in resources.items() if r.get("Type") == "AWS::Serverless::Function"}
    assert {"APIHandler", "OnUploadEvent", "Housekeeping", "Reconcile"} <= set(functions)

    # Every function gets the resource names from Globals and MDS_STACK from .chalice/config.json.
    assert set(template["Globals"]["Function"]["Environment"]["Variables"]) == {
        "MDS_ARTIFACTS_BUCKET",
        "MDS_DELIVERY_BUCKET",
        "MDS_KMS_KEY_ID",
        "MDS_CDN_BASE_URL",
        "MDS_CDN_DISTRIBUTION_ID",
        "MDS_API_BASE_URL",
        "MDS_FILE_UPLOAD_HOST",
    }
    for function in functions.values():
        assert function["Properties"]["Environment"]["Variables"]["MDS_STACK"] == deploy.stack_name(STAGE)
        assert function["Properties"]["Role"] == {"Fn::GetAtt": ["DefaultRole", "Arn"]}

    # The SQS handler listens on the queue this template creates, and only after it exists.
    on_upload = resources["OnUploadEvent"]
    assert on_upload["DependsOn"] == ["EventsQueue"]
    (source,) = on_upload["Properties"]["Events"].values()
    assert source["Properties"]["Queue"]["Fn::Sub"].endswith(f":{deploy.stack_name(STAGE)}-events")

    # Our least-privilege policy replaces Chalice's generated one instead of adding to it.
    (policy,) = resources["DefaultRole"]["Properties"]["Policies"]
    assert policy == TEMPLATE["Resources"]["DefaultRole"]["Properties"]["Policies"][0]
    assert {
        "CdnDomainName",
        "ArtifactsBucketName",
        "DeliveryBucketName",
        "EventsQueueUrl",
        "MasterKeyId",
        "EndpointURL",
    } <= set(template["Outputs"])


def test_lambda_role_reaches_every_table_and_its_indexes() -> None:
    statements = TEMPLATE["Resources"]["DefaultRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    (tables_statement,) = [s for s in statements if s.get("Sid") == "Tables"]
    granted = tables_statement["Resource"]
    for name, resource in TEMPLATE["Resources"].items():
        if resource.get("Type") == "AWS::DynamoDB::Table":
            assert {"Fn::GetAtt": [name, "Arn"]} in granted, name
            assert {"Fn::Sub": f"${{{name}.Arn}}/index/*"} in granted, name
    assert not any(a.endswith("*") for s in statements for a in s["Action"]), "no wildcard actions"


def test_package_refuses_a_stage_that_names_another_stack() -> None:
    with pytest.raises(SystemExit, match="MDS_STACK"):
        deploy.package("no-such-stage", Path("unused"))


# --- the plain-CloudFormation part in moto ---------------------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for var, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


def test_plain_part_strips_only_what_moto_cannot_create() -> None:
    plain, left_out = plain_cloudformation(TEMPLATE)
    for name, resource in TEMPLATE["Resources"].items():
        if resource.get("Type") in MUST_CREATE:
            assert name in plain["Resources"], name
    assert {"DefaultRole", "OnUploadEvent", "CdnDistribution"} <= left_out


def test_plain_part_reaches_create_complete_with_declared_schemas(aws: Any, tmp_path: Path) -> None:
    stack = "mds-test"
    plain, _ = plain_cloudformation(TEMPLATE)
    (tmp_path / "plain.json").write_text(json.dumps(plain))
    cfn = aws.client("cloudformation")

    # Through deploy.py's own path: deployment bucket, template upload, change set, wait.
    # (moto 5.2.5 leaves a stack created by a change set without Outputs, so names are computed here.)
    url = deploy.upload(tmp_path / "plain.json", stack, aws)
    deploy.deploy_stack(cfn, stack, url, {"ApiDomainName": None, "ApiCertificateArn": None})

    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    account = aws.client("sts").get_caller_identity()["Account"]

    dynamodb = aws.client("dynamodb")
    tables = {
        n: r["Properties"]
        for n, r in TEMPLATE["Resources"].items()
        if r.get("Type") == "AWS::DynamoDB::Table"
    }
    assert len(tables) >= 7
    for logical, declared in tables.items():
        table = dynamodb.describe_table(TableName=f"{stack}-{logical}")["Table"]
        assert table["KeySchema"] == declared["KeySchema"], logical
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(
            declared["AttributeDefinitions"], key=str
        )
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        created = {i["IndexName"]: i["KeySchema"] for i in table.get("GlobalSecondaryIndexes", [])}
        assert created == {i["IndexName"]: i["KeySchema"] for i in declared.get("GlobalSecondaryIndexes", [])}

    sqs = aws.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=f"{stack}-events")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(f":{stack}-events-dlq")
    assert int(redrive["maxReceiveCount"]) == 5
    assert attributes["VisibilityTimeout"] == "360"

    s3 = aws.client("s3")
    for bucket in (f"{stack}-artifacts-{account}", f"{stack}-delivery-{account}"):
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"

    kms = aws.client("kms")
    # (not describe_key: moto 5.2.5 keeps a CloudFormation KeyPolicy as a dict and then fails to parse it)
    (alias,) = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == f"alias/{stack}"]
    assert kms.get_key_rotation_status(KeyId=alias["TargetKeyId"])["KeyRotationEnabled"]


def test_upload_points_the_functions_at_uploaded_code(aws: Any, tmp_path: Path) -> None:
    (tmp_path / "deployment.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    function = {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}}
    (tmp_path / "sam.json").write_text(json.dumps({"Resources": {"A": function, "B": function}}))

    url = deploy.upload(tmp_path / "sam.json", "mds-test", aws)

    s3 = aws.client("s3")
    bucket = "mds-deploy-123456789012-us-east-1"
    assert url.startswith(f"https://{bucket}.s3.us-east-1.amazonaws.com/mds-test/")
    uploaded = json.loads(s3.get_object(Bucket=bucket, Key=url.split(".com/", 1)[1])["Body"].read())
    code_uris = {r["Properties"]["CodeUri"] for r in uploaded["Resources"].values()}
    (code_uri,) = code_uris
    assert code_uri.startswith(f"s3://{bucket}/mds-test/") and code_uri.endswith(".zip")
    code = s3.get_object(Bucket=bucket, Key=code_uri.split("/", 3)[3])["Body"].read()
    assert code == (tmp_path / "deployment.zip").read_bytes()
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 2, "one shared zip, one template"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]


def test_deploy_publishes_the_console_with_its_api_base(aws, tmp_path):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="console-test")
    s3.put_object(Bucket="console-test", Key="js/old-page.js", Body=b"stale")
    count = deploy.publish_console(s3, "console-test", "https://mds.example.com")

    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="console-test")["Contents"]}
    assert count == len(keys) and {"index.html", "config.js", "js/app.js"} <= keys
    assert "js/old-page.js" not in keys  # files the new version no longer has are removed
    config = s3.get_object(Bucket="console-test", Key="config.js")
    assert config["ContentType"] == "text/javascript"
    assert b'"apiBase": "https://mds.example.com"' in config["Body"].read()
    assert s3.head_object(Bucket="console-test", Key="index.html")["ContentType"] == "text/html"


def test_the_upload_host_reaches_create_complete_on_fargate_behind_an_alb(aws: Any, tmp_path: Path) -> None:
    """With ``UploadHostImage`` set: ECS Fargate service behind an HTTPS ALB (idle timeout 900 s, so a
    300 MB form on a slow link is not cut), its task role limited to ``files/*`` and the master key."""
    stack = "mds-upload"
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{zone}")[
            "Subnet"
        ]["SubnetId"]
        for i, zone in enumerate("ab")
    ]
    certificate = aws.client("acm").request_certificate(DomainName="upload.example.com")["CertificateArn"]
    plain, _ = plain_cloudformation(TEMPLATE)
    (tmp_path / "plain.json").write_text(json.dumps(plain))
    cfn = aws.client("cloudformation")
    url = deploy.upload(tmp_path / "plain.json", stack, aws)
    deploy.deploy_stack(cfn, stack, url, {
        "UploadHostImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mds-upload-host:1",
        "UploadHostDomainName": "upload.example.com", "UploadHostCertificateArn": certificate,
        "UploadHostVpcId": vpc, "UploadHostSubnetIds": ",".join(subnets),
    })  # fmt: skip
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    created = {
        r["LogicalResourceId"]: r for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    }
    assert {"UploadHostService", "UploadHostBalancer", "UploadHostListener", "UploadHostTask"} <= set(created)

    elb = aws.client("elbv2")
    balancer = created["UploadHostBalancer"]["PhysicalResourceId"]
    # (moto's CloudFormation does not apply LoadBalancerAttributes: the declared idle timeout is checked)
    declared = TEMPLATE["Resources"]["UploadHostBalancer"]["Properties"]["LoadBalancerAttributes"]
    assert {"Key": "idle_timeout.timeout_seconds", "Value": "900"} in declared
    [listener] = elb.describe_listeners(LoadBalancerArn=balancer)["Listeners"]
    assert (listener["Protocol"], listener["Port"]) == ("HTTPS", 443)
    task = aws.client("ecs").describe_task_definition(
        taskDefinition=created["UploadHostTask"]["PhysicalResourceId"]
    )["taskDefinition"]
    [container] = task["containerDefinitions"]
    assert container["command"][:3] == ["python", "-m", "mds.upload_host"]
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["MDS_FILE_UPLOAD_HOST"] == "https://upload.example.com" and env["MDS_STACK"] == stack
