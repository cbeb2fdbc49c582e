"""Checkov check CKV_FP_3: IAM policy documents grant no service-wide wildcard action (s3:*, *)."""

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck

WILDCARD = re.compile(r"^(\*|[a-z0-9-]+:\*)$")


class NoServiceWildcardActions(BaseDataCheck):
    def __init__(self) -> None:
        super().__init__(name="IAM policy documents grant no service-wide wildcard action such as s3:*",
                         id="CKV_FP_3", categories=[CheckCategories.IAM],
                         supported_data=["aws_iam_policy_document"])

    def scan_data_conf(self, conf: dict[str, Any]) -> CheckResult:
        for statement in conf.get("statement") or []:
            actions = statement.get("actions") or []
            flat = [a for group in actions for a in (group if isinstance(group, list) else [group])]
            if any(WILDCARD.match(str(a)) for a in flat):
                return CheckResult.FAILED
        return CheckResult.PASSED


check = NoServiceWildcardActions()
