"""Guard tests: the dev_min stacks parse and hold the facts the seed pins (sections 5, 8, 9, 14, B, C)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from fp_adapters.settings import REPO_ROOT
from fp_core.topics import TOPIC_MAP
from fp_ops.dev_min import CORE, CORE_OUTPUTS, DEMO, DEMO_OUTPUTS
from tests.infra.hcl import all_resource_types, load_stack, raw_text, resources

FORBIDDEN = {"aws_nat_gateway", "aws_lb", "aws_alb", "aws_elb", "aws_msk_cluster", "aws_instance",
             "aws_ecs_service", "aws_autoscaling_group", "aws_eks_cluster", "aws_db_instance"}


@pytest.fixture(scope="module")
def core() -> dict[str, list[Any]]:
    return load_stack(CORE)


@pytest.fixture(scope="module")
def demo() -> dict[str, list[Any]]:
    return load_stack(DEMO)


def locals_of(stack: dict[str, list[Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for block in stack["locals"]:
        out.update(block)
    return out


def backend(stack: dict[str, list[Any]]) -> dict[str, Any]:
    [tf] = [t for t in stack["terraform"] if "backend" in t]
    [s3] = [b["s3"] for b in tf["backend"] if "s3" in b]
    return s3  # type: ignore[no-any-return]


def test_both_stacks_pin_providers_by_range(core: dict[str, list[Any]], demo: dict[str, list[Any]]) -> None:
    for stack, needed in ((core, {"aws"}), (demo, {"aws", "confluent", "random"})):
        [req] = [t["required_providers"] for t in stack["terraform"] if "required_providers" in t]
        providers = {k: v for block in req for k, v in block.items()}
        assert set(providers) == needed
        for p in providers.values():
            assert re.match(r"^>= \d+(\.\d+)?, < \d+", p["version"]), p


def test_remote_state_keys_encrypted(core: dict[str, list[Any]], demo: dict[str, list[Any]]) -> None:
    assert backend(core) == {"key": "dev_min/core/terraform.tfstate", "encrypt": True}
    assert backend(demo) == {"key": "dev_min/demo/terraform.tfstate", "encrypt": True}


def test_buckets_unique_encrypted_private_with_pinned_lifecycle(core: dict[str, list[Any]]) -> None:
    loc = locals_of(core)
    assert loc["data_buckets"] == {"oracle": 14, "archive": 60, "quarantine": 30, "evidence": None}
    assert "tfstate = null" in loc["buckets"]
    assert loc["versioned"] == '${toset(["evidence", "tfstate"])}'
    assert "account_id" in loc["name_root"] and "var.region" in loc["name_root"]
    [pab] = resources(core, "aws_s3_bucket_public_access_block").values()
    assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                         "restrict_public_buckets"))
    [sse] = resources(core, "aws_s3_bucket_server_side_encryption_configuration").values()
    assert "AES256" in json.dumps(sse)
    [lifecycle] = resources(core, "aws_s3_bucket_lifecycle_configuration").values()
    text = json.dumps(lifecycle)
    assert "noncurrent_version_expiration" in text and "abort_incomplete_multipart_upload" in text
    assert "expiration" in text


def test_dynamodb_tables_on_demand(core: dict[str, list[Any]]) -> None:
    tables = resources(core, "aws_dynamodb_table")
    assert set(tables) == {"tf_lock", "quarantine_index"}
    assert all(t["billing_mode"] == "PAY_PER_REQUEST" for t in tables.values())
    assert tables["tf_lock"]["hash_key"] == "LockID"
    assert (tables["quarantine_index"]["hash_key"], tables["quarantine_index"]["range_key"]) == ("pk", "sk")


def test_budget_is_usd_with_percentage_thresholds(core: dict[str, list[Any]]) -> None:
    [budget] = resources(core, "aws_budgets_budget").values()
    assert budget["limit_unit"] == "USD" and budget["time_unit"] == "MONTHLY"
    assert "var.budget_limit_gbp * var.gbp_to_usd_rate" in budget["limit_amount"]
    notification = budget["dynamic"][0]["notification"]
    assert notification["for_each"] == [33.3, 66.7, 93.3]
    assert notification["content"][0]["threshold_type"] == "PERCENTAGE"
    text = raw_text(CORE)
    assert re.search(r'variable "budget_limit_gbp"[^}]*default\s*=\s*30', text)
    # all account spend counts (D19): a tag filter would miss spend until the tag is activated
    assert "cost_filter" not in budget and "cost_filters" not in budget
    [tag] = resources(core, "aws_ce_cost_allocation_tag").values()
    assert (tag["tag_key"], tag["status"]) == ("project", "Active")
    runbook = (REPO_ROOT / "docs/runbook.md").read_text()
    assert "24 hours" in runbook and "Confluent" in runbook and "usage alert" in runbook.lower()


def outputs_of(stack: dict[str, list[Any]]) -> dict[str, Any]:
    return {k: v for block in stack["output"] for k, v in block.items()}


def test_the_outputs_the_code_reads_are_the_ones_the_stacks_declare(core: dict[str, list[Any]],
                                                                     demo: dict[str, list[Any]]) -> None:
    assert set(CORE_OUTPUTS) <= set(outputs_of(core)), set(CORE_OUTPUTS) - set(outputs_of(core))
    assert set(DEMO_OUTPUTS) <= set(outputs_of(demo)), set(DEMO_OUTPUTS) - set(outputs_of(demo))
    assert not any(outputs_of(demo)[n].get("sensitive") for n in DEMO_OUTPUTS)  # they reach run.json


def test_iam_least_privilege_without_wildcards(core: dict[str, list[Any]]) -> None:
    docs = [d for block in core["data"] for k, d in block.items() if k == "aws_iam_policy_document"]
    statements = [s for doc in docs for named in doc.values() for s in named["statement"]]
    actions = [a for s in statements for a in s.get("actions", [])]
    assert actions and not [a for a in actions if a == "*" or a.endswith(":*")]
    res = json.dumps([s.get("resources", []) for s in statements])
    assert '"*"' not in res
    assert "parameter/fraud-platform/dev_min/*" in res
    assert "aws_dynamodb_table.quarantine_index.arn" in res and "aws_dynamodb_table.tf_lock.arn" in res
    assert "aws_iam_user" not in all_resource_types(core)


def test_tags_on_everything(core: dict[str, list[Any]], demo: dict[str, list[Any]]) -> None:
    for stack in (core, demo):
        [aws] = [p["aws"] for p in stack["provider"] if "aws" in p]
        assert aws["default_tags"][0]["tags"] == "${local.tags}"
        loc = locals_of(stack)
        tags = {k: loc.get(v[len("${local."):-1], v) if v.startswith("${local.") else v
                for k, v in loc["tags"].items()}
        assert tags["project"] == "fraud-platform" and tags["env"] == "dev_min"
        assert tags["owner"] == "${var.owner}" and tags["expires_at"] == "${var.expires_at}"


def test_no_forbidden_resources_and_short_log_retention(core: dict[str, list[Any]], demo: dict[str, list[Any]]
                                                        ) -> None:
    for stack in (core, demo):
        assert not all_resource_types(stack) & FORBIDDEN
        for group in resources(stack, "aws_cloudwatch_log_group").values():
            assert 3 <= int(group["retention_in_days"]) <= 7
    assert "prevent_destroy" not in raw_text(DEMO)


def test_demo_topic_map_equals_the_code(demo: dict[str, list[Any]]) -> None:
    topics = json.loads((DEMO / "topics.json").read_text())
    assert topics == [t.model_dump() for t in TOPIC_MAP]
    [topic] = resources(demo, "confluent_kafka_topic").values()
    assert topic["config"]["cleanup.policy"] == "${each.value.cleanup_policy}"
    [cluster] = resources(demo, "confluent_kafka_cluster").values()
    assert "basic" in cluster


def test_demo_acls_keys_and_ssm_parameters(demo: dict[str, list[Any]]) -> None:
    acls = resources(demo, "confluent_kafka_acl")
    assert '"READ", "WRITE", "DESCRIBE"' in raw_text(DEMO)
    assert acls["groups"]["resource_type"] == "GROUP" and acls["groups"]["operation"] == "READ"
    for acl in acls.values():
        assert "confluent_api_key.admin" in json.dumps(acl["credentials"])  # managed with the admin key
        assert acl["principal"] == "User:${confluent_service_account.app.id}"
    assert set(resources(demo, "confluent_api_key")) == {"admin", "app"}
    ssm = resources(demo, "aws_ssm_parameter")
    params = ssm["confluent"]
    assert ssm["ingress_wsp"]["type"] == "SecureString"  # the HTTP ingress key of WSP (dev_min.yaml key_ssm)
    assert ssm["ingress_wsp"]["name"] == "/fraud-platform/dev_min/ingress/wsp"
    assert params["type"] == "SecureString" and params["name"] == "${var.ssm_prefix}/${each.key}"
    assert set(params["for_each"]) == {"bootstrap", "api_key", "api_secret"}
    assert 'trimprefix(confluent_kafka_cluster.demo.bootstrap_endpoint, "SASL_SSL://")' in raw_text(DEMO)
    assert re.search(r'variable "ssm_prefix"[^}]*"/fraud-platform/dev_min/confluent"', raw_text(DEMO))
    outputs = {k: v for block in demo["output"] for k, v in block.items()}
    for name in ("bootstrap", "app_api_key", "app_api_secret"):
        assert outputs[name]["sensitive"] is True


def test_no_credentials_in_the_stacks() -> None:
    text = raw_text(CORE) + raw_text(DEMO)
    assert not re.search(r"(AKIA[0-9A-Z]{16}|api_secret\s*=\s*\"[^$])", text)
    assert not list(CORE.parent.glob("*.tfvars"))  # only the .example is committed
