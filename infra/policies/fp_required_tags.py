"""Checkov check CKV_FP_2: every AWS provider block applies the pinned cost-allocation tags (seed 8.3)."""

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.provider.base_check import BaseProviderCheck

REQUIRED = {"project": "fraud-platform", "env": "dev_min", "owner": None, "expires_at": None}


class RequiredTags(BaseProviderCheck):
    def __init__(self) -> None:
        super().__init__(name="AWS provider default_tags carry project, env, owner, expires_at",
                         id="CKV_FP_2", categories=[CheckCategories.GENERAL_SECURITY], supported_provider=["aws"])

    def scan_provider_conf(self, conf: dict[str, Any]) -> CheckResult:
        default_tags = (conf.get("default_tags") or [{}])[0]
        tags = (default_tags.get("tags") or [{}])[0] if isinstance(default_tags, dict) else {}
        if not isinstance(tags, dict):
            return CheckResult.FAILED
        for key, value in REQUIRED.items():
            if key not in tags:
                return CheckResult.FAILED
            if value is not None and tags[key] != value and not str(tags[key]).startswith("${"):
                return CheckResult.FAILED
        return CheckResult.PASSED


check = RequiredTags()
