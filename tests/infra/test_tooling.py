"""checkov (in its own environment, since it conflicts with python-hcl2) and terraform where present."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from fp_adapters.settings import REPO_ROOT, load_settings
from fp_ops.dev_min import STACKS, STATE_KEYS, Terraform

CHECKOV = REPO_ROOT / ".venv-checkov/bin/checkov"


def test_checkov_has_no_unexplained_failures() -> None:
    if not CHECKOV.exists():
        pytest.fail("checkov is not installed in .venv-checkov: scripts/test-all.sh installs it")
    proc = subprocess.run([str(CHECKOV), "-d", str(STACKS), "--framework", "terraform", "--external-checks-dir",
                           str(REPO_ROOT / "infra/policies"), "-o", "json", "--skip-download"],
                          capture_output=True, text=True, timeout=600)
    report = json.loads(proc.stdout)
    results = report["results"] if isinstance(report, dict) else report[0]["results"]
    assert results["failed_checks"] == [], [(c["check_id"], c["resource"]) for c in results["failed_checks"]]
    for skipped in results["skipped_checks"]:
        assert len(skipped.get("check_result", {}).get("suppress_comment", "")) > 20, skipped["check_id"]
    passed = {c["check_id"] for c in results["passed_checks"]}
    assert {"CKV_FP_2", "CKV_FP_3"} <= passed  # the project's own policies ran on these stacks


def terraform_or_skip() -> str:
    exe = shutil.which("terraform")
    if exe is None:
        pytest.skip("terraform binary not installed on this machine: fmt check and backend smoke test NOT run")
    return exe


def test_terraform_fmt_check() -> None:
    exe = terraform_or_skip()
    proc = subprocess.run([exe, "fmt", "-check", "-recursive", str(STACKS)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.substrate
def test_s3_backend_configuration_against_the_emulator(substrate: None) -> None:
    """The exact backend settings the operator commands pass, with state written to the S3 emulator."""
    exe = terraform_or_skip()
    settings = load_settings("dev_min")
    import boto3

    s3 = boto3.client("s3", region_name="eu-west-2", endpoint_url=settings.aws.endpoint_url,
                      aws_access_key_id="fp-emulator", aws_secret_access_key="fp-emulator")
    bucket = "fraud-platform-dev-min-000000000000-eu-west-2-tfstate"
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    tf = Terraform(state_bucket=bucket, lock_table="fraud-platform-dev-min-tf-lock", region="eu-west-2",
                   var_file=Path("unused"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "backend.tf").write_text((STACKS / "core/backend.tf").read_text())
        emulator = [f"-backend-config=endpoints={{s3=\"{settings.aws.endpoint_url}\","
                    f"dynamodb=\"{settings.aws.endpoint_url}\"}}",
                    "-backend-config=use_path_style=true", "-backend-config=skip_credentials_validation=true",
                    "-backend-config=skip_requesting_account_id=true", "-backend-config=skip_metadata_api_check=true"]
        env = dict(os.environ, AWS_ACCESS_KEY_ID="fp-emulator", AWS_SECRET_ACCESS_KEY="fp-emulator",
                   TF_IN_AUTOMATION="1")
        backend = [a for a in tf.backend_args("core") if "dynamodb_table" not in a]
        for args in (["init", "-input=false", *backend, *emulator], ["apply", "-input=false", "-auto-approve"]):
            proc = subprocess.run([exe, f"-chdir={work}", *args], capture_output=True, text=True, env=env,
                                  timeout=120)
            assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]
    head = s3.head_object(Bucket=bucket, Key=STATE_KEYS["core"])
    assert head["ServerSideEncryption"] in ("AES256", "aws:kms")
