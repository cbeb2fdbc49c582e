"""boto3 clients from settings: real AWS uses the default credential chain; an emulator gets fixed
non-secret credentials. The code path is otherwise identical."""

from __future__ import annotations

from typing import Any

import boto3

from fp_adapters.settings import Settings

EMULATOR_KEY = "fp-emulator"


def aws_client(service: str, settings: Settings, endpoint_url: str | None = None,
               region: str | None = None) -> Any:
    kwargs: dict[str, Any] = {"region_name": region or settings.aws.region,
                              "endpoint_url": endpoint_url or settings.aws.endpoint_url}
    if settings.aws.emulator_credentials:
        kwargs.update(aws_access_key_id=EMULATOR_KEY, aws_secret_access_key=EMULATOR_KEY)
    return boto3.client(service, **kwargs)


def s3_client(settings: Settings) -> Any:
    return aws_client("s3", settings, settings.objects.endpoint_url, settings.objects.region)
