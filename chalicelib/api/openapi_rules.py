"""mPaaS advanced rules on the wire (``GreyConfigInfo``, ``RuleJsonList``) ↔ our rules
(``{"type", "operation", "values"}``, docs/targeting.md). Shared by every product's OpenAPI module."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.domain.errors import MissingParameter, ValidationError

RULE_ELEMENTS = {"city": "city", "model": "mobileModel", "network": "netType", "osVersion": "osVersion"}
RULE_OPERATORS = {1: "contains", 2: "excludes", 3: "vLimitIn", 4: "vLimitOut"}
RULE_OPERATOR_CODES = {v.lower(): k for k, v in RULE_OPERATORS.items()}
MAX_RULES = 20


def rules_from_wire(text: str | None) -> list[dict[str, Any]] | None:
    """mPaaS ``GreyConfigInfo`` → our rules (``{"type", "operation", "values"}``), or None when empty.

    Accepts the request form (a list of ``{"ruleElement", "operation", "value"[, "value1", "value2"]}``)
    and the form tasks are listed with (``{"subRules": [{"operator", "left", "right"}]}``), so a listed
    task's rules can be sent back as they are.

    Raises:
        ValidationError: naming ``GreyConfigInfo`` (with the rule's index).
    """
    if text is None or not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise ValidationError("GreyConfigInfo", "must be JSON: a list of rules") from None
    if isinstance(data, dict) and "subRules" in data:
        return [
            _sub_rule(r, f"GreyConfigInfo.subRules[{i}]") for i, r in enumerate(_rule_list(data["subRules"]))
        ]
    return [_rule(r, f"GreyConfigInfo[{i}]") for i, r in enumerate(_rule_list(data))]


def _rule_list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise ValidationError("GreyConfigInfo", "must be a JSON list of rules")
    if len(data) > MAX_RULES:
        raise ValidationError("GreyConfigInfo", f"must have at most {MAX_RULES} rules")
    return data


def _rule(data: Any, path: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError(path, 'must be an object {"ruleElement", "operation", "value"}')
    lowered = {str(k).lower(): v for k, v in data.items()}
    element = lowered.get("ruleelement")
    if not element:
        raise MissingParameter(path + ".ruleElement")
    operation = lowered.get("operation")
    if operation is None or operation == "":
        raise MissingParameter(path + ".operation")
    try:
        operation = int(operation)
    except (TypeError, ValueError):
        raise ValidationError(path + ".operation", "must be 1, 2, 3 or 4") from None
    if operation in (3, 4) and lowered.get("value1") not in (None, "") and not lowered.get("value"):
        values = [f"{lowered.get('value1') or ''}-{lowered.get('value2') or ''}"]
    else:
        raw = lowered.get("value")
        if isinstance(raw, list):
            values = [str(v).strip() for v in raw]
        else:
            values = [v.strip() for v in str(raw or "").split(",") if v.strip()]
    return {"type": str(element), "operation": operation, "values": values}


def _sub_rule(data: Any, path: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError(path, 'must be an object {"operator", "left", "right"}')
    operation = RULE_OPERATOR_CODES.get(str(data.get("operator", "")).lower())
    if operation is None:
        raise ValidationError(path + ".operator", "must be contains, excludes, vLimitIn or vLimitOut")
    left = data.get("left")
    if isinstance(left, dict):
        values = [f"{left.get('lower') or ''}-{left.get('upper') or ''}"]
    elif isinstance(left, list):
        values = [str(v).strip() for v in left]
    else:
        raise ValidationError(path + ".left", "must be a list of values or {lower, upper}")
    return {"type": str(data.get("right", "")), "operation": operation, "values": values}


def _rule_values(rule: dict[str, Any]) -> list[str]:
    if rule.get("ranges"):
        return [
            f"{r.get('min') or ''}-{r.get('max') or ''}" if isinstance(r, dict) else str(r)
            for r in rule["ranges"]
        ]
    return [str(v) for v in rule.get("values") or []]


def rules_to_wire(rules: list[dict[str, Any]] | None) -> str:
    """Our rules → the ``GreyConfigInfo`` text mPaaS lists tasks with (``operator``/``subRules``)."""
    if not rules:
        return ""
    sub_rules = []
    for rule in rules:
        operation = int(rule.get("operation", 1))
        values = _rule_values(rule)
        if operation in (3, 4) and values:
            low, _, high = values[0].partition("-")
            left: Any = {"lower": low, "upper": high}
        else:
            left = values
        sub_rules.append(
            {
                "operator": RULE_OPERATORS.get(operation, "contains"),
                "left": left,
                "right": RULE_ELEMENTS.get(str(rule.get("type")), str(rule.get("type"))),
                "defaultResult": False,
            }
        )
    return json.dumps(
        {"operator": "and", "defaultResult": True, "subRules": sub_rules},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def rule_json_list(rules: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """Our rules → ``RuleJsonList`` items (task detail)."""
    out = []
    for rule in rules or []:
        element = RULE_ELEMENTS.get(str(rule.get("type")), str(rule.get("type")))
        out.append(
            {
                "RuleElement": element,
                "Operation": str(int(rule.get("operation", 1))),
                "Value": ",".join(_rule_values(rule)),
                "RuleType": element,
            }
        )
    return out
