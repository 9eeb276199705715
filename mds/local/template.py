"""Reads the DynamoDB tables, S3 buckets and SQS queues of ``infra/template.json``.

The local stack builds its resources from the same definitions CloudFormation deploys, so local
and AWS cannot drift. Only the intrinsics those resources use are resolved (``Ref``, ``Fn::Sub``,
``Fn::GetAtt``, ``Fn::Join``, ``Fn::If`` and conditions); anything else raises ``TemplateError``
naming the resource, rather than silently building something different.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MOTO_ACCOUNT_ID = "123456789012"
DEFAULT_TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.json"

TABLE = "AWS::DynamoDB::Table"
BUCKET = "AWS::S3::Bucket"
QUEUE = "AWS::SQS::Queue"
_NAME_PROPERTY = {TABLE: "TableName", BUCKET: "BucketName", QUEUE: "QueueName"}

_NO_VALUE = object()  # AWS::NoValue: the property is dropped
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    name: str
    arn: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class StackResources:
    stack: str
    account: str
    region: str
    tables: tuple[Resource, ...] = ()
    buckets: tuple[Resource, ...] = ()
    queues: tuple[Resource, ...] = ()
    by_logical_id: dict[str, Resource] = field(default_factory=dict)


def read_template(
    path: Path | str = DEFAULT_TEMPLATE,
    *,
    stack: str,
    region: str = "us-east-1",
    account: str = MOTO_ACCOUNT_ID,
) -> StackResources:
    """The template's tables, buckets and queues with every property resolved for ``stack``."""
    template = json.loads(Path(path).read_text())
    resolver = _Resolver(template, stack=stack, region=region, account=account)
    resolved = {
        logical_id: resolver.resource(logical_id)
        for logical_id, body in template.get("Resources", {}).items()
        if isinstance(body, dict) and body.get("Type") in _NAME_PROPERTY
    }
    of_type = lambda t: tuple(r for r in resolved.values() if r.type == t)  # noqa: E731
    return StackResources(
        stack=stack,
        account=account,
        region=region,
        tables=of_type(TABLE),
        buckets=of_type(BUCKET),
        queues=of_type(QUEUE),
        by_logical_id=resolved,
    )


class _Resolver:
    def __init__(self, template: dict[str, Any], *, stack: str, region: str, account: str) -> None:
        self.resources: dict[str, Any] = template.get("Resources", {})
        self.conditions: dict[str, Any] = template.get("Conditions", {})
        self.pseudo = {
            "AWS::StackName": stack,
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }
        self.parameters = {
            name: spec.get("Default", "") for name, spec in template.get("Parameters", {}).items()
        }
        self.region, self.account, self.stack = region, account, stack
        self._where = ""

    def resource(self, logical_id: str) -> Resource:
        body = self.resources[logical_id]
        kind = body["Type"]
        self._where = logical_id
        properties = self.value(body.get("Properties", {}))
        return Resource(logical_id, kind, self.name(logical_id), self._arn(logical_id), properties)

    def name(self, logical_id: str) -> str:
        body = self.resources.get(logical_id)
        if not isinstance(body, dict) or body.get("Type") not in _NAME_PROPERTY:
            raise TemplateError(f"{self._where}: reference to {logical_id!r}, not a table/bucket/queue")
        explicit = body.get("Properties", {}).get(_NAME_PROPERTY[body["Type"]])
        if explicit is not None:
            return str(self.value(explicit))
        # CloudFormation would generate a name; locally a readable stable one does.
        fallback = f"{self.stack}-{logical_id}"
        return fallback.lower() if body["Type"] == BUCKET else fallback

    def _arn(self, logical_id: str) -> str:
        kind, name = self.resources[logical_id]["Type"], self.name(logical_id)
        if kind == TABLE:
            return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{name}"
        if kind == QUEUE:
            return f"arn:aws:sqs:{self.region}:{self.account}:{name}"
        return f"arn:aws:s3:::{name}"

    def _ref(self, target: str) -> Any:
        if target in self.pseudo:
            return self.pseudo[target]
        if target in self.parameters:
            return self.parameters[target]
        if self.resources.get(target, {}).get("Type") == QUEUE:
            # Ref of a queue is its URL; only the queue name part is meaningful locally.
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{self.name(target)}"
        return self.name(target)

    def _get_att(self, target: str, attribute: str) -> str:
        if attribute == "Arn":
            self.name(target)  # validates the type
            return self._arn(target)
        if attribute in ("QueueName",):
            return self.name(target)
        if attribute == "QueueUrl":
            return self._ref(target)
        raise TemplateError(f"{self._where}: Fn::GetAtt {target}.{attribute} is not supported locally")

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token in variables:
                return str(self.value(variables[token]))
            if "." in token:
                target, attribute = token.split(".", 1)
                return self._get_att(target, attribute)
            return str(self._ref(token))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise TemplateError(f"{self._where}: unknown condition {name!r}")
        return bool(self.value(self.conditions[name]))

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                return self._sub(text, variables)
            if key == "Fn::GetAtt":
                target, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                return self._get_att(target, attribute)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(v) for v in self.value(items))
            if key == "Fn::If":
                name, when_true, when_false = arg
                return self.value(when_true if self.condition(name) else when_false)
            if key == "Fn::Equals":
                left, right = self.value(arg)
                return left == right
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Fn::And":
                return all(self.value(arg))
            if key == "Fn::Or":
                return any(self.value(arg))
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                raise TemplateError(f"{self._where}: {key} is not supported locally")
        resolved = {k: self.value(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}
