"""The PynamoDB models and infra/template.json describe the same tables (one source of truth)."""

import pytest

from chalicelib.store.models import ALL_MODELS
from mds.local.template import read_template


def _keys(schema):
    return {(k["AttributeName"], k["KeyType"]) for k in schema}


SPEC = read_template(stack="mds-test")
TABLES = {t.name: t.properties for t in SPEC.tables}


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_model_matches_template(model, monkeypatch):
    monkeypatch.setenv("MDS_STACK", "mds-test")
    from chalicelib import config

    config.reload()
    name = model.Meta.table_name
    assert name in TABLES, f"{name} is not declared in infra/template.json"
    declared = TABLES[name]
    schema = model._get_schema()
    assert _keys(schema["key_schema"]) == _keys(declared["KeySchema"])
    declared_gsis = {
        g["IndexName"]: _keys(g["KeySchema"]) for g in declared.get("GlobalSecondaryIndexes", [])
    }
    model_gsis = {g["index_name"]: _keys(g["key_schema"]) for g in schema["global_secondary_indexes"]}
    assert model_gsis == declared_gsis


def test_every_template_table_has_a_model(monkeypatch):
    monkeypatch.setenv("MDS_STACK", "mds-test")
    from chalicelib import config

    config.reload()
    assert {m.Meta.table_name for m in ALL_MODELS} == set(TABLES)
