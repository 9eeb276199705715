"""Package and deploy MDS to AWS as the CloudFormation stack ``mds-<stage>``.

    python -m mds.deploy package --stage prod --out out/prod   # SAM template + code, offline
    python -m mds.deploy deploy  --stage prod --out out/prod   # package, upload, change set, wait,
                                                                 # then publish console/ to its bucket

Every resource name derives from the stack name, and the Lambda code finds them through ``MDS_STACK``,
so ``.chalice/config.json`` must set ``MDS_STACK`` to ``mds-<stage>`` for the stage being deployed.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import typer
from botocore.exceptions import ClientError, WaiterError

ROOT = Path(__file__).resolve().parents[1]
MERGE_TEMPLATE = ROOT / "infra" / "template.json"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
# SAM properties that name a local file written by `chalice package` (the layer only if enabled).
LOCAL_ARTIFACTS = ("CodeUri", "ContentUri")
# The chalice CLI of this interpreter's environment; chalice has no `python -m chalice`.
CHALICE = "import sys; from chalice.cli import main; sys.exit(main())"

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Package and deploy MDS as the stack mds-<stage>."
)


def stack_name(stage: str) -> str:
    return f"mds-{stage}"


def check_stage(stage: str) -> None:
    """Refuse a stage whose Lambda environment would look for another stack's resources."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = config.get("stages", {}).get(stage, {}).get("environment_variables", {})
    if env.get("MDS_STACK") != stack_name(stage):
        raise SystemExit(
            f'.chalice/config.json: stage "{stage}" must set environment_variables.MDS_STACK '
            f'to "{stack_name(stage)}" (found {env.get("MDS_STACK")!r})'
        )


def package(stage: str, out: Path) -> Path:
    """Run `chalice package` with infra/template.json merged in; return the path of sam.json."""
    check_stage(stage)
    out = Path(out).resolve()
    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", boto3.session.Session().region_name or "us-east-1")
    chalice = [sys.executable, "-c", CHALICE, "package", "--stage", stage]
    subprocess.run(
        [*chalice, "--merge-template", str(MERGE_TEMPLATE), str(out)], cwd=ROOT, env=env, check=True
    )
    return out / "sam.json"


def deployment_bucket(session: boto3.session.Session) -> str:
    """The per-account, per-region bucket for code and templates; created on first use."""
    account = session.client("sts").get_caller_identity()["Account"]
    region = session.region_name
    bucket = f"mds-deploy-{account}-{region}"
    s3 = session.client("s3")
    try:
        # ExpectedBucketOwner: the name is guessable, so never upload into someone else's bucket.
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        return bucket
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    return bucket


def _put(s3: Any, bucket: str, prefix: str, body: bytes, suffix: str) -> str:
    # Content-addressed keys: unchanged code keeps its CodeUri, so CloudFormation leaves the function alone.
    key = f"{prefix}/{hashlib.sha256(body).hexdigest()}{suffix}"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return key


def upload(sam_json: Path, stack: str, session: boto3.session.Session) -> str:
    """Upload the code and the template to the deployment bucket; return the template's URL."""
    bucket = deployment_bucket(session)
    s3 = session.client("s3")
    template = json.loads(sam_json.read_text())
    uploaded: dict[str, str] = {}  # every function shares one deployment.zip
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for prop in LOCAL_ARTIFACTS:
            local = props.get(prop)
            if isinstance(local, str) and not local.startswith("s3://"):
                if local not in uploaded:
                    artifact = (sam_json.parent / local).read_bytes()
                    uploaded[local] = f"s3://{bucket}/{_put(s3, bucket, stack, artifact, '.zip')}"
                props[prop] = uploaded[local]
    key = _put(s3, bucket, stack, json.dumps(template).encode(), ".json")
    return f"https://{bucket}.s3.{session.region_name}.amazonaws.com/{key}"


def _stack_status(cfn: Any, stack: str) -> str | None:
    try:
        return cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except ClientError as e:
        if "does not exist" in str(e):
            return None
        raise


def deploy_stack(
    cfn: Any, stack: str, template_url: str, parameters: dict[str, str | None]
) -> dict[str, str]:
    """Create or update the stack through a change set, wait for it, return its outputs.

    A parameter given as None keeps its previous value on update (its default on create).
    """
    status = _stack_status(cfn, stack)
    if status == "ROLLBACK_COMPLETE":
        raise SystemExit(
            f"{stack} is ROLLBACK_COMPLETE (its first create failed): delete it, then deploy again"
        )
    kind = "CREATE" if status in (None, "REVIEW_IN_PROGRESS") else "UPDATE"
    params = [
        {"ParameterKey": k, "ParameterValue": v}
        if v is not None
        else {"ParameterKey": k, "UsePreviousValue": True}
        for k, v in parameters.items()
        if v is not None or kind == "UPDATE"
    ]
    name = f"mds-{time.strftime('%Y%m%d-%H%M%S')}"
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType=kind,
        TemplateURL=template_url,
        Capabilities=CAPABILITIES,
        Parameters=params,
    )
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=stack, ChangeSetName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 120}
        )
    except WaiterError:
        reason = cfn.describe_change_set(StackName=stack, ChangeSetName=name).get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            cfn.delete_change_set(StackName=stack, ChangeSetName=name)
            print(f"{stack}: no changes")
            return outputs(cfn, stack)
        raise SystemExit(f"{stack}: change set {name} failed: {reason}") from None
    print(f"{stack}: executing change set {name} ({kind}); a new CloudFront distribution takes minutes")
    cfn.execute_change_set(StackName=stack, ChangeSetName=name)
    waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
    try:
        cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig={"Delay": 15, "MaxAttempts": 240})
    except WaiterError:
        for event in cfn.describe_stack_events(StackName=stack)["StackEvents"][:30]:
            if event["ResourceStatus"].endswith("_FAILED"):
                print(
                    f"  {event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}",
                    file=sys.stderr,
                )
        raise SystemExit(f"{stack}: {_stack_status(cfn, stack)}") from None
    return outputs(cfn, stack)


def outputs(cfn: Any, stack: str) -> dict[str, str]:
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def publish_console(s3: Any, bucket: str, api_base: str, source: Path = ROOT / "console") -> int:
    """Copy the static console to its bucket (CloudFront serves it) with a ``config.js`` that points it
    at the API. Files the new version no longer has are deleted. Returns the number of files written."""
    written = set()
    for path in sorted(p for p in source.rglob("*") if p.is_file() and p.name != "config.js"):
        key = path.relative_to(source).as_posix()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=kind)
        written.add(key)
    config = f"window.MDS_CONSOLE = {json.dumps({'apiBase': api_base})};\n"
    s3.put_object(Bucket=bucket, Key="config.js", Body=config.encode(), ContentType="text/javascript")
    written.add("config.js")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            if item["Key"] not in written:
                s3.delete_object(Bucket=bucket, Key=item["Key"])
    return len(written)


STAGE = typer.Option("prod", help="Chalice stage; the stack is mds-<stage>")
OUT = typer.Option(None, help="output directory (default out/<stage>)")


@app.command("package")
def package_command(stage: str = STAGE, out: Path | None = OUT) -> None:
    """Write sam.json and deployment.zip (no AWS calls)."""
    print(package(stage, out or ROOT / "out" / stage))


@app.command("deploy")
def deploy_command(
    stage: str = STAGE,
    out: Path | None = OUT,
    api_domain: str | None = typer.Option(
        None, help="custom domain serving the API at its root (mPaaS SDKs need it)"
    ),
    api_certificate_arn: str | None = typer.Option(
        None, help="ACM certificate for --api-domain, in the same region"
    ),
) -> None:
    """Package, upload to mds-deploy-<account>-<region>, create or update the stack, print its outputs."""
    if (api_domain is None) != (api_certificate_arn is None):
        raise SystemExit("--api-domain and --api-certificate-arn go together")
    stack = stack_name(stage)
    sam_json = package(stage, out or ROOT / "out" / stage)
    session = boto3.session.Session()
    if not session.region_name:
        raise SystemExit("no AWS region: set AWS_DEFAULT_REGION or a profile region")
    template_url = upload(sam_json, stack, session)
    result = deploy_stack(
        session.client("cloudformation"),
        stack,
        template_url,
        {"ApiDomainName": api_domain, "ApiCertificateArn": api_certificate_arn},
    )
    if result.get("ConsoleBucketName"):
        # without a custom domain: the stage URL Chalice outputs (routes are under /api on both)
        api_base = f"https://{api_domain}" if api_domain else result.get("EndpointURL", "").rstrip("/")
        count = publish_console(session.client("s3"), result["ConsoleBucketName"], api_base)
        print(f"console: {count} files published to {result['ConsoleBucketName']}")
    for key, value in sorted(result.items()):
        print(f"{key:24} {value}")


if __name__ == "__main__":
    app()
