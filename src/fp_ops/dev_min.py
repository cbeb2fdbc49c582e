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
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from fp_adapters.aws import aws_client
from fp_adapters.containers import build_adapters
from fp_adapters.kafka.admin import describe_topics
from fp_adapters.kafka.client_config import CREDENTIAL_NAMES, client_config, credentials_from_ssm
from fp_adapters.kafka.names import TopicNames
from fp_adapters.settings import REPO_ROOT, Settings
from fp_adapters.ssm.secret_store import SsmSecretStore
from fp_core.errors import NotFound, PlatformError
from fp_core.topics import TOPIC_MAP

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
    model_config = ConfigDict(frozen=True)
    name: str
    passed: bool
    detail: str


def _check(name: str, fn: Callable[[], str]) -> CheckResult:
    try:
        return CheckResult(name=name, passed=True, detail=fn())
    except Exception as exc:
        return CheckResult(name=name, passed=False, detail=f"{type(exc).__name__}: {exc}"[:400])


def ssm_names(settings: Settings) -> list[str]:
    prefix = (settings.bus.credentials_ssm_prefix or "").rstrip("/")
    return [f"{prefix}/{n}" for n in CREDENTIAL_NAMES]


def preflight(settings: Settings, marker_key: str) -> list[CheckResult]:
    """Stage 0 of seed 12.2: secrets in SSM, buckets present and evidence writable, topics present."""
    adapters: Any = build_adapters(settings)  # the run's own clients (no Kafka credentials resolved yet)
    secrets: SsmSecretStore = adapters.secret_store()
    s3 = adapters.s3()
    objects = adapters.objects()

    def params() -> str:
        missing = [n for n in ssm_names(settings) if not secrets.exists(n)]
        if missing:
            raise NotFound(f"SSM parameters missing: {missing}")
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
            raise NotFound(f"topics missing {missing}, partition count differs {wrong}")
        return f"{sum(t.required for t in TOPIC_MAP)} required topics present with pinned partitions"

    return [_check("ssm_parameters", params), _check("buckets_and_evidence_writable", buckets),
            _check("topics", topics)]


def remove_demo_parameters(settings: Settings) -> list[str]:
    """What destroying the demo stack does to SSM (used as the emulated destroy)."""
    ssm = aws_client("ssm", settings)
    names = ssm_names(settings)
    ssm.delete_parameters(Names=names)
    return names


def verify_teardown(settings: Settings, demo_state: Sequence[str] | None) -> list[CheckResult]:
    """Seed 14.5 / B.5: no Confluent resources left, SSM parameters gone, no NAT gateway, no load balancer."""
    ssm: SsmSecretStore = build_adapters(settings).secret_store()

    def confluent() -> str:
        if demo_state is None:
            return "emulated: no Confluent Cloud resources exist to destroy"
        left = [r for r in demo_state if r.startswith("confluent_")]
        if left:
            raise PlatformError(f"demo state still holds {left}")
        return "demo state holds no Confluent environment, cluster, topics or API keys"

    def parameters() -> str:
        left = [n for n in ssm_names(settings) if ssm.exists(n)]
        if left:
            raise PlatformError(f"SSM parameters still present: {left}")
        return "no /fraud-platform/dev_min/confluent/* parameters remain"

    def nat() -> str:
        gws = aws_client("ec2", settings).describe_nat_gateways(
            Filters=[{"Name": "state", "Values": ["pending", "available"]}]).get("NatGateways", [])
        if gws:
            raise PlatformError(f"NAT gateways exist: {[g['NatGatewayId'] for g in gws]}")
        return "no NAT gateway in the region"

    def load_balancers() -> str:
        lbs = aws_client("elbv2", settings).describe_load_balancers().get("LoadBalancers", [])
        if lbs:
            raise PlatformError(f"load balancers exist: {[lb['LoadBalancerName'] for lb in lbs]}")
        return "no ALB/NLB in the region"

    return [_check("confluent_resources_destroyed", confluent), _check("ssm_parameters_removed", parameters),
            _check("no_nat_gateway", nat), _check("no_load_balancer", load_balancers)]


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
