"""SecretStore over SSM Parameter Store: SecureString values decrypted on read, never logged."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from fp_core.errors import NotFound, TransientError


class SsmSecretStore:
    def __init__(self, client: Any) -> None:
        self._ssm = client

    def get(self, name: str) -> str:
        try:
            value: str = self._ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
            return value
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
                raise NotFound(f"SSM parameter {name} does not exist") from exc
            raise TransientError(f"SSM get {name}: {exc.response.get('Error', {}).get('Code')}") from exc

    def exists(self, name: str) -> bool:
        try:
            self.get(name)
            return True
        except NotFound:
            return False
