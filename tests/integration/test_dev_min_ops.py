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
from fp_ops import dev_min
from fp_ops.provision import seed_managed_kafka_parameters

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


def test_preflight_and_teardown_verification_on_emulated_endpoints(substrate: None) -> None:
    settings = load_settings("dev_min")
    marker = f"evidence/preflight/test-{uuid.uuid4().hex}"
    try:
        first = dev_min.preflight(settings, marker + "-1.json")
        assert all(r.passed for r in first), first
        assert dev_min.remove_demo_parameters(settings) == dev_min.ssm_names(settings)
        failed = {r.name: r for r in dev_min.preflight(settings, marker + "-2.json")}
        assert not failed["ssm_parameters"].passed and "/confluent/api_secret" in failed["ssm_parameters"].detail
        proof = {r.name: r.passed for r in dev_min.verify_teardown(settings, None)}
        assert proof == {"confluent_resources_destroyed": True, "ssm_parameters_removed": True,
                         "no_nat_gateway": True, "no_load_balancer": True}
        left = dev_min.verify_teardown(settings, ["confluent_kafka_cluster.demo"])
        assert not left[0].passed and "confluent_kafka_cluster.demo" in left[0].detail
        ec2 = aws_client("ec2", settings)
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"]
        try:
            flagged = {r.name: r for r in dev_min.verify_teardown(settings, None)}
            assert not flagged["no_nat_gateway"].passed and nat in flagged["no_nat_gateway"].detail
        finally:
            ec2.delete_nat_gateway(NatGatewayId=nat)
    finally:
        seed_managed_kafka_parameters(settings)


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
        down = make("dev-min-down")
        assert down.returncode == 0, down.stderr[-2000:]
        settings = load_settings("dev_min")
        s3 = aws_client("s3", settings, settings.objects.endpoint_url)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="fp-dev-min-evidence",
                                                      Prefix="evidence/teardown/")["Contents"]]
        proof = json.loads(s3.get_object(Bucket="fp-dev-min-evidence", Key=sorted(keys)[-1])["Body"].read())
        assert proof["passed"] and proof["session_ended_at"] and len(proof["checks"]) == 4
    finally:
        seed_managed_kafka_parameters(load_settings("dev_min"))
