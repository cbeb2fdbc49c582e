"""Operating dev_min: the exact Terraform invocations, preflight, teardown proof, cost worksheet, and the
Make targets end to end against the emulated managed endpoints."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from fp_adapters.aws import aws_client
from fp_adapters.settings import REPO_ROOT, load_settings
from fp_core.errors import PlatformError
from fp_core.topics import TOPIC_MAP
from fp_ops import dev_min, provision
from tests.integration.test_learning_loop import learning_loop

pytestmark = pytest.mark.substrate


def test_terraform_invocations_are_exactly_planned(tmp_path: Path) -> None:
    ran: list[dev_min.Command] = []

    def record(cmd: dev_min.Command) -> str:
        ran.append(cmd)
        assert not (cmd.argv[2] == "init" and "-migrate-state" not in cmd.argv and
                    (dev_min.CORE / "backend_override.tf").exists() and cmd.argv[1] != f"-chdir={dev_min.CORE}")
        return '{"cluster_id": {"value": "lkc-1"}}' if cmd.argv[2] == "output" else ""

    tf = dev_min.Terraform("state-b", "lock-t", "eu-west-2", tmp_path / "v.tfvars", execute=record)
    tf.bootstrap_core()
    assert not (dev_min.CORE / "backend_override.tf").exists()
    assert tf.apply("demo") == {"cluster_id": {"value": "lkc-1"}}
    tf.destroy_demo()
    backend = ("-backend-config=bucket=state-b", "-backend-config=key=dev_min/{}/terraform.tfstate",
               "-backend-config=region=eu-west-2", "-backend-config=dynamodb_table=lock-t",
               "-backend-config=encrypt=true")
    core, demo = f"-chdir={dev_min.CORE}", f"-chdir={dev_min.DEMO}"
    var = f"-var-file={tmp_path / 'v.tfvars'}"

    def b(stack: str) -> tuple[str, ...]:
        return tuple(a.format(stack) for a in backend)

    assert [c.argv for c in ran] == [
        ("terraform", core, "init", "-input=false"),
        ("terraform", core, "apply", "-input=false", "-auto-approve", var),
        ("terraform", core, "init", "-input=false", "-migrate-state", "-force-copy", *b("core")),
        ("terraform", demo, "init", "-input=false", *b("demo")),
        ("terraform", demo, "apply", "-input=false", "-auto-approve", var),
        ("terraform", demo, "output", "-json"),
        ("terraform", demo, "init", "-input=false", *b("demo")),
        ("terraform", demo, "destroy", "-input=false", "-auto-approve", var),
    ]
    assert all(c.cwd == REPO_ROOT for c in ran)


def test_preflight_and_teardown_proof_query_every_claim_and_fail_on_tampering(substrate: None) -> None:
    settings = load_settings("dev_min")
    admin_bootstrap = load_settings("local_parity").bus.bootstrap
    admin = provision.admin_config(admin_bootstrap)
    marker = f"evidence/preflight/test-{uuid.uuid4().hex}"
    outputs = dev_min.outputs_from_emulation(settings)
    assert outputs.cluster_id and not outputs.cluster_id.startswith("emulated")  # asked of the broker
    assert outputs.topic_prefix() == "dm." and outputs.settings_overlay()["bus"]["topic_prefix"] == "dm."
    s3 = aws_client("s3", settings, settings.objects.endpoint_url)
    evidence = f"fp-test-evidence-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=evidence, CreateBucketConfiguration={"LocationConstraint": settings.objects.region})
    s3.put_object(Bucket=evidence, Key="evidence/runs/pr-x/run.json", Body=b"{}")
    outputs = outputs.model_copy(update={"bucket_map": {**outputs.bucket_map, "evidence": evidence}})
    try:
        first = dev_min.preflight(settings, marker + "-1.json")
        assert all(r.passed for r in first), first
        live = {r.name: r for r in dev_min.verify_teardown(settings, outputs, admin, None)}
        assert not live["demo_ssm_parameters_absent"].passed and not live["kafka_api_key_absent"].passed
        assert not live["kafka_topics_absent"].passed and live["kafka_topics_absent"].api == "kafka:Metadata"

        destroyed = provision.destroy_emulated_demo(settings, admin_bootstrap)
        assert destroyed["acls_deleted"] == 4 and len(destroyed["topics_deleted"]) == len(outputs.topic_map)
        failed = {r.name: r for r in dev_min.preflight(settings, marker + "-2.json")}
        assert not failed["ssm_parameters"].passed and "/confluent/api_secret" in failed["ssm_parameters"].detail
        proof = dev_min.verify_teardown(settings, outputs, admin, None)
        assert all(r.passed for r in proof), [r for r in proof if not r.passed]
        assert all(r.api and r.target for r in proof)  # every line says what was asked of which API

        # tampering: a demo parameter left behind, then the evidence prefix deleted
        ssm = aws_client("ssm", settings)
        ssm.put_parameter(Name=outputs.ssm_parameters[0], Value="left-behind", Type="SecureString")
        left = {r.name: r for r in dev_min.verify_teardown(settings, outputs, admin, None)}
        assert not left["demo_ssm_parameters_absent"].passed
        assert left["demo_ssm_parameters_absent"].found == [outputs.ssm_parameters[0]]
        ssm.delete_parameter(Name=outputs.ssm_parameters[0])
        s3.delete_object(Bucket=evidence, Key="evidence/runs/pr-x/run.json")
        gone = {r.name: r for r in dev_min.verify_teardown(settings, outputs, admin, None)}
        assert not gone["evidence_remains"].passed and gone["kafka_api_key_absent"].passed

        # a check that cannot run fails the proof and says so
        broken = outputs.model_copy(update={"quarantine_table": "no-such-table"})
        cannot = {r.name: r for r in dev_min.verify_teardown(settings, broken, admin, None)}
        assert not cannot["quarantine_table_remains"].passed
        assert cannot["quarantine_table_remains"].detail.startswith("could not run")

        state = {r.name: r for r in dev_min.verify_teardown(settings, outputs, None, ["confluent_kafka_cluster.demo"])}
        assert not state["confluent_cluster_absent"].passed and "fallback" in state["kafka_topics_absent"].api

        ec2 = aws_client("ec2", settings)
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"]
        try:
            flagged = {r.name: r for r in dev_min.verify_teardown(settings, outputs, admin, None)}
            assert not flagged["no_nat_gateway"].passed and nat in flagged["no_nat_gateway"].detail
        finally:
            ec2.delete_nat_gateway(NatGatewayId=nat)
    finally:
        provision.apply_emulated_demo(settings, admin_bootstrap)


def test_outputs_become_the_run_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FP_SUBSTRATE_DIR", str(tmp_path))
    core = {n: {"value": v} for n, v in {"bucket_map": {"oracle": "b-o", "archive": "b-a", "quarantine": "b-q",
                                                          "evidence": "b-e"}, "quarantine_table": "qt",
                                          "region": "eu-west-1", "service_role_arn": "arn:aws:iam::1:role/r"}.items()}
    demo = {"cluster_id": {"value": "lkc-9"}, "ssm_parameters": {"value": [f"/p/x/{n}" for n in
                                                                            ("bootstrap", "api_key", "api_secret")]},
            "topic_map": {"value": {t.name: t.name for t in TOPIC_MAP}}}
    outputs = dev_min.outputs_from_terraform(core, demo)
    dev_min.write_run_settings(outputs)
    settings = load_settings("dev_min")
    assert settings.objects.buckets["evidence"] == "b-e" and settings.objects.region == "eu-west-1"
    assert settings.dynamodb.quarantine_table == "qt" and settings.bus.credentials_ssm_prefix == "/p/x"
    assert settings.bus.topic_prefix == "" and settings.aws.endpoint_url is None and settings.bus.ca_file is None
    with pytest.raises(PlatformError, match="cluster_id"):
        dev_min.outputs_from_terraform(core, {k: v for k, v in demo.items() if k != "cluster_id"})


def test_cost_worksheet_applies_appendix_b() -> None:
    rates = dev_min.CostRates(budget_gbp_month=30, aws_core_baseline_gbp_month=3, kafka_hourly_gbp=1.5,
                              confluent_monthly_usage_gbp=2, optional_compute_hourly_gbp=0.5,
                              optional_lb_hourly_gbp=0, per_run_io_gbp=0.25)
    sheet = dev_min.cost_worksheet(rates, hours=4, demos=2)
    assert sheet["demo_session_cost_gbp"] == 8.25 and sheet["monthly_total_gbp"] == 21.5
    assert sheet["within_budget"] and sheet["headroom_gbp"] == 8.5
    assert not dev_min.cost_worksheet(rates, hours=10, demos=2)["within_budget"]
    assert dev_min.load_rates().budget_gbp_month == 30


@pytest.mark.slow
def test_make_targets_up_run_down_against_emulated_endpoints(substrate: None) -> None:
    def make(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", "-s", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)

    try:
        up = make("dev-min-up")
        assert up.returncode == 0, up.stderr[-2000:]
        run = make("dev-min-run", "EVENTS=1200")
        assert run.returncode == 0, run.stderr[-2000:]
        assert "COMPLETED: evidence bundle s3://fp-dev-min-evidence/evidence/runs/" in " ".join(run.stderr.split())
        learning_loop("dev_min")  # dataset -> train -> activate -> run -> replay, on the emulated managed endpoints
        down = make("dev-min-down")
        assert down.returncode == 0, down.stderr[-2000:]
        settings = load_settings("dev_min")
        s3 = aws_client("s3", settings, settings.objects.endpoint_url)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="fp-dev-min-evidence",
                                                      Prefix="evidence/teardown/")["Contents"]]
        proof = json.loads(s3.get_object(Bucket="fp-dev-min-evidence", Key=sorted(keys)[-1])["Body"].read())
        assert proof["passed"] and proof["ended_at"] and len(proof["checks"]) == 9
        assert all(c["api"] for c in proof["checks"]) and proof["cost"]["hours"] > 0
        assert proof["runs"] and proof["resources"]["topic_map"]["fp.bus.control.v1"] == "dm.fp.bus.control.v1"
        bundle = proof["runs"][0]["platform_run_id"]
        header = json.loads(s3.get_object(Bucket="fp-dev-min-evidence",
                                          Key=f"evidence/runs/{bundle}/run.json")["Body"].read())
        assert header["substrate"]["kafka"]["cluster_id"] == proof["resources"]["cluster_id"]
        assert header["substrate"]["bucket_map"] == proof["resources"]["bucket_map"]
    finally:
        provision.apply_emulated_demo(load_settings("dev_min"), load_settings("local_parity").bus.bootstrap)
