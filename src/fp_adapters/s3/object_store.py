"""ObjectStore over the S3 API: write-once puts by conditional write (If-None-Match), bucket map."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from fp_core.errors import NotFound, ObjectExists, TransientError


class S3ObjectStore:
    def __init__(self, client: Any, buckets: Mapping[str, str]) -> None:
        self._s3 = client
        self._buckets = dict(buckets)

    def _bucket(self, key: str) -> str:
        top = key.split("/", 1)[0]
        try:
            return self._buckets[top]
        except KeyError:
            raise ValueError(f"key {key!r}: prefix {top!r} has no bucket; known: {sorted(self._buckets)}") from None

    def uri(self, key: str) -> str:
        return f"s3://{self._bucket(key)}/{key}"

    def put(self, key: str, data: bytes, *, overwrite: bool = False) -> None:
        extra = {} if overwrite else {"IfNoneMatch": "*"}
        try:
            self._s3.put_object(Bucket=self._bucket(key), Key=key, Body=data, **extra)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise ObjectExists(f"{self.uri(key)} exists and is write-once") from exc
            raise TransientError(f"put {self.uri(key)}: {code or exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            body: bytes = self._s3.get_object(Bucket=self._bucket(key), Key=key)["Body"].read()
            return body
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise NotFound(self.uri(key)) from exc
            raise TransientError(f"get {self.uri(key)}: {exc}") from exc

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket(key), Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise TransientError(f"head {self.uri(key)}: {exc}") from exc

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket(prefix), Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        return sorted(keys)


def ensure_buckets(client: Any, buckets: Mapping[str, str], region: str) -> list[str]:
    """Create missing buckets (local emulation of what the core Terraform stack creates)."""
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    created = []
    for name in sorted(set(buckets.values()) - existing):
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        created.append(name)
    return created
