"""Operating dev_min: Terraform command plans, preflight, run session record, teardown proof, cost.

Terraform itself cannot run on our machines (no provider registry, no AWS); its invocations are
planned as exact argv + working directory and executed by an injected runner, so tests check them.
Preflight and teardown verification talk to whatever endpoints the dev_min settings name: real AWS and
Confluent, or the emulated ones of the local substrate.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

from fp_adapters.aws import aws_client
from fp_adapters.containers import build_adapters
from fp_adapters.kafka.admin import acls_of, cluster_id, describe_topics, topics_named
from fp_adapters.kafka.client_config import client_config, credential_parameters, credentials_from_ssm
from fp_adapters.kafka.names import TopicNames
from fp_adapters.settings import REPO_ROOT, Settings, session_settings_file
from fp_adapters.ssm.secret_store import SsmSecretStore
from fp_core.errors import NotFound, PlatformError
from fp_core.topics import TOPIC_MAP
from fp_ops.provision import SERVICE_ROLE, app_principal

STACKS = REPO_ROOT / "infra/terraform/dev_min"
CORE, DEMO = STACKS / "core", STACKS / "demo"
STATE_KEYS = {"core": "dev_min/core/terraform.tfstate", "demo": "dev_min/demo/terraform.tfstate"}


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    cwd: Path


Executor = Callable[[Command], str]


def subprocess_executor(cmd: Command) -> str:
    proc = subprocess.run(list(cmd.argv), cwd=cmd.cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise PlatformError(f"{' '.join(cmd.argv)} failed in {cmd.cwd}: {proc.stderr.strip()[-800:]}")
    return proc.stdout


@dataclass
class Terraform:
    """The exact Terraform invocations of dev-min-up / dev-min-down, run through ``execute``."""

    state_bucket: str
    lock_table: str
    region: str
    var_file: Path
    execute: Executor = subprocess_executor
    log: list[Command] = field(default_factory=list)

    def _run(self, stack: Path, *args: str) -> str:
        cmd = Command(("terraform", f"-chdir={stack}", *args), REPO_ROOT)
        self.log.append(cmd)
        return self.execute(cmd)

    def backend_args(self, stack: str) -> tuple[str, ...]:
        return (f"-backend-config=bucket={self.state_bucket}", f"-backend-config=key={STATE_KEYS[stack]}",
                f"-backend-config=region={self.region}", f"-backend-config=dynamodb_table={self.lock_table}",
                "-backend-config=encrypt=true")

    def bootstrap_core(self) -> None:
        """First apply of core with local state (it creates the state bucket), then migrate the state."""
        override = CORE / "backend_override.tf"
        override.write_text('terraform {\n  backend "local" {}\n}\n')
        try:
            self._run(CORE, "init", "-input=false")
            self._run(CORE, "apply", "-input=false", "-auto-approve", f"-var-file={self.var_file}")
        finally:
            override.unlink(missing_ok=True)
        self._run(CORE, "init", "-input=false", "-migrate-state", "-force-copy", *self.backend_args("core"))

    def apply(self, stack: str) -> dict[str, Any]:
        path = CORE if stack == "core" else DEMO
        self._run(path, "init", "-input=false", *self.backend_args(stack))
        self._run(path, "apply", "-input=false", "-auto-approve", f"-var-file={self.var_file}")
        outputs: dict[str, Any] = json.loads(self._run(path, "output", "-json") or "{}")
        return outputs

    def destroy_demo(self) -> None:
        self._run(DEMO, "init", "-input=false", *self.backend_args("demo"))
        self._run(DEMO, "destroy", "-input=false", "-auto-approve", f"-var-file={self.var_file}")

    def demo_state(self) -> list[str]:
        self._run(DEMO, "init", "-input=false", *self.backend_args("demo"))
        return [line for line in self._run(DEMO, "state", "list").splitlines() if line.strip()]


class CheckResult(BaseModel):
    """One claim of a preflight or teardown proof: what was asked, of which API, about what, and what
    was found. A check that could not run fails and says why."""

    model_config = ConfigDict(frozen=True)
    name: str
    passed: bool
    detail: str
    api: str = ""
    target: str = ""
    found: Any = None


def _check(name: str, fn: Callable[[], str], api: str = "", target: str = "") -> CheckResult:
    try:
        return CheckResult(name=name, passed=True, detail=fn(), api=api, target=target)
    except _Found as f:
        return CheckResult(name=name, passed=False, detail=f.detail, api=api, target=target, found=f.found)
    except Exception as exc:
        return CheckResult(name=name, passed=False, detail=f"could not run: {type(exc).__name__}: {exc}"[:400],
                           api=api, target=target)


class _Found(Exception):
    """A check ran and found what must not be there (or did not find what must be)."""

    def __init__(self, detail: str, found: Any) -> None:
        super().__init__(detail)
        self.detail, self.found = detail, found


def ssm_names(settings: Settings) -> list[str]:
    return credential_parameters(settings.bus)


# ------------------------------------------------------------------------------------- stack outputs

CORE_OUTPUTS = ("bucket_map", "quarantine_table", "region", "service_role_arn")
"""The core stack's outputs the platform reads (``infra/terraform/dev_min/core/outputs.tf``)."""
DEMO_OUTPUTS = ("cluster_id", "ssm_parameters", "topic_map")
"""The demo stack's outputs the platform reads (``infra/terraform/dev_min/demo/outputs.tf``)."""


class SubstrateOutputs(BaseModel):
    """What ``fp dev-min up`` brought up, from ``terraform output -json`` of both stacks (aws) or from
    the emulated resources themselves (emulated); the run settings are derived from it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    mode: Literal["emulated", "aws"]
    region: str
    bucket_map: dict[str, str]
    quarantine_table: str
    service_role_arn: str
    cluster_id: str
    ssm_parameters: list[str]
    topic_map: dict[str, str]

    def topic_prefix(self) -> str:
        prefixes = {phys.removesuffix(logical) for logical, phys in self.topic_map.items() if phys.endswith(logical)}
        if len(prefixes) != 1 or len(self.topic_map) != len(TOPIC_MAP):
            raise PlatformError(f"topic_map is not the Appendix C map under one prefix: {self.topic_map}")
        return prefixes.pop()

    def ssm_prefix(self) -> str:
        parents = {name.rsplit("/", 1)[0] for name in self.ssm_parameters}
        if len(parents) != 1:
            raise PlatformError(f"ssm_parameters do not share one path: {self.ssm_parameters}")
        return parents.pop()

    def settings_overlay(self) -> dict[str, Any]:
        """The dev_min settings these outputs decide (written where ``load_settings`` reads them)."""
        overlay: dict[str, Any] = {
            "bus": {"credentials_ssm_prefix": self.ssm_prefix(), "topic_prefix": self.topic_prefix()},
            "objects": {"buckets": dict(self.bucket_map), "region": self.region},
            "aws": {"region": self.region}, "dynamodb": {"quarantine_table": self.quarantine_table}}
        if self.mode == "aws":  # real endpoints: no emulator URLs, credentials or private CA
            overlay["bus"]["ca_file"] = None
            overlay["objects"]["endpoint_url"] = None
            overlay["aws"].update(endpoint_url=None, emulator_credentials=False)
        return overlay


def _value(outputs: dict[str, Any], stack: str, name: str) -> Any:
    if name not in outputs or "value" not in outputs[name]:
        raise PlatformError(f"terraform output {name!r} missing from the {stack} stack (have {sorted(outputs)})")
    return outputs[name]["value"]


def outputs_from_terraform(core: dict[str, Any], demo: dict[str, Any]) -> SubstrateOutputs:
    values = {n: _value(core, "core", n) for n in CORE_OUTPUTS} | {n: _value(demo, "demo", n) for n in DEMO_OUTPUTS}
    return SubstrateOutputs(mode="aws", **values)


def outputs_from_emulation(settings: Settings) -> SubstrateOutputs:
    """The emulated resources, asked of their endpoints: the role of IAM, the cluster id of the broker
    (over the SASL_SSL listener, with the credentials from SSM), the parameters of SSM."""
    adapters: Any = build_adapters(settings)
    secrets: SsmSecretStore = adapters.secret_store()
    missing = [n for n in ssm_names(settings) if not secrets.exists(n)]
    if missing:
        raise NotFound(f"SSM parameters missing: {missing}; run `fp dev-min up`")
    conf = client_config(settings.bus, credentials_from_ssm(settings.bus, secrets))
    role = aws_client("iam", settings).get_role(RoleName=SERVICE_ROLE)["Role"]["Arn"]
    names = TopicNames(settings.bus.topic_prefix)
    return SubstrateOutputs(mode="emulated", region=settings.aws.region, bucket_map=dict(settings.objects.buckets),
                            quarantine_table=settings.dynamodb.quarantine_table, service_role_arn=str(role),
                            cluster_id=cluster_id(conf), ssm_parameters=ssm_names(settings),
                            topic_map={t.name: names.physical(t.name) for t in TOPIC_MAP})


def write_run_settings(outputs: SubstrateOutputs) -> Path:
    """Where ``fp dev-min run`` and ``fp run --env dev_min`` find the settings (nothing exported by hand)."""
    path = session_settings_file("dev_min")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outputs.settings_overlay(), indent=2, sort_keys=True) + "\n")
    return path


# ------------------------------------------------------------------------------------- preflight, teardown

def preflight(settings: Settings, marker_key: str) -> list[CheckResult]:
    """Stage 0 of seed 12.2: secrets in SSM, buckets present and evidence writable, topics present."""
    adapters: Any = build_adapters(settings)  # the run's own clients (no Kafka credentials resolved yet)
    secrets: SsmSecretStore = adapters.secret_store()
    s3 = adapters.s3()
    objects = adapters.objects()

    def params() -> str:
        missing = [n for n in ssm_names(settings) if not secrets.exists(n)]
        if missing:
            raise _Found(f"SSM parameters missing: {missing}", missing)
        return f"{len(ssm_names(settings))} SecureString parameters present (values not read into evidence)"

    def buckets() -> str:
        for bucket in sorted(set(settings.objects.buckets.values())):
            s3.head_bucket(Bucket=bucket)
        objects.put(marker_key, json.dumps({"preflight": "evidence writable"}).encode())
        return f"buckets {sorted(set(settings.objects.buckets.values()))} exist; wrote {objects.uri(marker_key)}"

    def topics() -> str:
        creds = credentials_from_ssm(settings.bus, secrets)
        present = describe_topics(client_config(settings.bus, creds), TopicNames(settings.bus.topic_prefix))
        missing = [t.name for t in TOPIC_MAP if t.required and t.name not in present]
        wrong = [t.name for t in TOPIC_MAP if t.name in present and present[t.name] != t.partitions]
        if missing or wrong:
            raise _Found(f"topics missing {missing}, partition count differs {wrong}", missing + wrong)
        return f"{sum(t.required for t in TOPIC_MAP)} required topics present with pinned partitions"

    return [_check("ssm_parameters", params, "ssm:GetParameters", ",".join(ssm_names(settings))),
            _check("buckets_and_evidence_writable", buckets, "s3:HeadBucket,s3:PutObject",
                   ",".join(sorted(set(settings.objects.buckets.values())))),
            _check("topics", topics, "kafka:Metadata", settings.bus.topic_prefix or "(no prefix)")]


def verify_teardown(settings: Settings, outputs: SubstrateOutputs, admin_conf: dict[str, Any] | None,
                    demo_state: Sequence[str] | None) -> list[CheckResult]:
    """Seed 14.5 / B.5, every claim queried: the core and the evidence remain (S3, DynamoDB, IAM); the
    demo's SSM parameters, Kafka topics and API key are gone (SSM; the Kafka admin API of the emulated
    cluster, or in aws mode the demo stack's state, labelled as that fallback); no NAT gateway and no
    load balancer (EC2, ELBv2)."""
    s3 = aws_client("s3", settings, settings.objects.endpoint_url)
    evidence = outputs.bucket_map["evidence"]

    def evidence_prefix() -> str:
        n = s3.list_objects_v2(Bucket=evidence, Prefix="evidence/runs/", MaxKeys=5).get("KeyCount", 0)
        if not n:
            raise _Found(f"s3://{evidence}/evidence/runs/ is empty: the runs' evidence is gone", 0)
        return f"s3://{evidence}/evidence/runs/ holds objects (first page: {n})"

    def core_buckets() -> str:
        for bucket in sorted(set(outputs.bucket_map.values())):
            s3.head_bucket(Bucket=bucket)
        return f"{len(set(outputs.bucket_map.values()))} core buckets present"

    def table() -> str:
        status = aws_client("dynamodb", settings).describe_table(TableName=outputs.quarantine_table)["Table"]
        return f"{outputs.quarantine_table} is {status.get('TableStatus', 'ACTIVE')}"

    def role() -> str:
        name = outputs.service_role_arn.rsplit("/", 1)[-1]
        aws_client("iam", settings).get_role(RoleName=name)
        return f"role {name} present"

    def parameters() -> str:
        got = aws_client("ssm", settings).get_parameters(Names=outputs.ssm_parameters, WithDecryption=False)
        left = sorted(p["Name"] for p in got.get("Parameters", []))
        if left:
            raise _Found(f"SSM parameters still present: {left}", left)
        return f"none of {len(outputs.ssm_parameters)} demo parameters remain"

    def from_state(kind: str) -> str:
        assert demo_state is not None
        left = [r for r in demo_state if r.startswith(kind)]
        if left:
            raise _Found(f"demo state still holds {left}", left)
        return f"terraform state of the demo stack holds no {kind}* (fallback: the provider's state, not the API)"

    def on_cluster(state_kind: str, query: Callable[[dict[str, Any]], list[str]], left_msg: str,
                   ok_msg: Callable[[], str]) -> Callable[[], str]:
        """A Kafka-side claim: asked of the cluster's admin API, or read from the demo state in aws mode."""
        def check() -> str:
            if admin_conf is None:
                return from_state(state_kind)
            left = query(admin_conf)
            if left:
                raise _Found(f"{left_msg}: {left}", left)
            return ok_msg()
        return check

    topics = on_cluster("confluent_kafka_topic", lambda conf: topics_named(conf, TopicNames(outputs.topic_prefix())),
                        f"demo topics still on cluster {outputs.cluster_id}",
                        lambda: f"no demo topic (prefix {outputs.topic_prefix()!r}) on cluster {outputs.cluster_id}")
    api_key = on_cluster("confluent_api_key", lambda conf: acls_of(conf, app_principal()),
                         "the application's API key still holds ACLs",
                         lambda: "the application's API key holds no ACL on the cluster")

    def nat() -> str:
        gws = aws_client("ec2", settings).describe_nat_gateways(
            Filters=[{"Name": "state", "Values": ["pending", "available"]}]).get("NatGateways", [])
        if gws:
            raise _Found(f"NAT gateways exist: {[g['NatGatewayId'] for g in gws]}", [g["NatGatewayId"] for g in gws])
        return "no NAT gateway in the region"

    def load_balancers() -> str:
        lbs = aws_client("elbv2", settings).describe_load_balancers().get("LoadBalancers", [])
        if lbs:
            names = [lb["LoadBalancerName"] for lb in lbs]
            raise _Found(f"load balancers exist: {names}", names)
        return "no ALB/NLB in the region"

    kafka_api = "kafka:Metadata" if admin_conf is not None else "terraform:state list (fallback)"
    acl_api = "kafka:DescribeAcls" if admin_conf is not None else "terraform:state list (fallback)"
    checks = [
        _check("evidence_remains", evidence_prefix, "s3:ListObjectsV2", f"s3://{evidence}/evidence/runs/"),
        _check("core_buckets_remain", core_buckets, "s3:HeadBucket",
               ",".join(sorted(set(outputs.bucket_map.values())))),
        _check("quarantine_table_remains", table, "dynamodb:DescribeTable", outputs.quarantine_table),
        _check("service_role_remains", role, "iam:GetRole", outputs.service_role_arn),
        _check("demo_ssm_parameters_absent", parameters, "ssm:GetParameters", ",".join(outputs.ssm_parameters)),
        _check("kafka_topics_absent", topics, kafka_api, outputs.cluster_id),
        _check("kafka_api_key_absent", api_key, acl_api, outputs.cluster_id),
        _check("no_nat_gateway", nat, "ec2:DescribeNatGateways", outputs.region),
        _check("no_load_balancer", load_balancers, "elbv2:DescribeLoadBalancers", outputs.region),
    ]
    if demo_state is not None:
        checks.append(_check("confluent_cluster_absent", lambda: from_state("confluent_kafka_cluster"),
                             "terraform:state list (fallback)", outputs.cluster_id))
    return checks


def session_cost(rates: CostRates, started_at: datetime, ended_at: datetime, runs: int) -> dict[str, Any]:
    """Appendix B for one demo session, from its actual duration."""
    hours = max(0.0, (ended_at - started_at).total_seconds() / 3600)
    hourly = rates.kafka_hourly_gbp + rates.optional_compute_hourly_gbp + rates.optional_lb_hourly_gbp
    cost = round(hours * hourly + runs * rates.per_run_io_gbp, 4)
    return {"hours": round(hours, 4), "hourly_gbp": hourly, "runs": runs, "per_run_io_gbp": rates.per_run_io_gbp,
            "session_cost_gbp": cost, "budget_gbp_month": rates.budget_gbp_month,
            "formula": "hours * (kafka + compute + lb hourly) + runs * per_run_io (Appendix B.1)"}


class CostRates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    budget_gbp_month: float
    aws_core_baseline_gbp_month: float
    kafka_hourly_gbp: float
    confluent_monthly_usage_gbp: float
    optional_compute_hourly_gbp: float
    optional_lb_hourly_gbp: float
    per_run_io_gbp: float


def load_rates(path: Path = REPO_ROOT / "config/cost_rates.yaml") -> CostRates:
    return CostRates.model_validate(yaml.safe_load(path.read_text()))


def cost_worksheet(rates: CostRates, hours: float, demos: int) -> dict[str, Any]:
    """Appendix B.1: monthly_total = aws_core + sum(demo_session_cost) + confluent_monthly_usage, with
    demo_session_cost = demo_hours * (kafka + compute + lb hourly) + per_run_io."""
    hourly = rates.kafka_hourly_gbp + rates.optional_compute_hourly_gbp + rates.optional_lb_hourly_gbp
    session = round(hours * hourly + rates.per_run_io_gbp, 4)
    total = round(rates.aws_core_baseline_gbp_month + demos * session + rates.confluent_monthly_usage_gbp, 4)
    return {"hours_per_demo": hours, "demos": demos, "demo_session_cost_gbp": session,
            "aws_core_baseline_gbp": rates.aws_core_baseline_gbp_month,
            "confluent_monthly_usage_gbp": rates.confluent_monthly_usage_gbp, "monthly_total_gbp": total,
            "budget_gbp": rates.budget_gbp_month, "within_budget": total <= rates.budget_gbp_month,
            "headroom_gbp": round(rates.budget_gbp_month - total, 4)}
