"""An Ingress over HTTP: WSP (or any producer) submitting to ``fp-ig serve`` instead of an in-process
gate. The submission id travels as ``Idempotency-Key``, so both paths write the same receipts."""

from __future__ import annotations

import ssl
from collections.abc import Sequence

import httpx

from fp_core.errors import PlatformError, TransientError
from fp_core.ingress import NDJSON
from fp_core.receipts import Receipt


class HttpIngress:
    def __init__(self, base_url: str, api_key: str, platform_run_id: str, verify: str | bool = True,
                 timeout_s: float = 120.0) -> None:
        self._run = platform_run_id
        tls: ssl.SSLContext | bool = ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
        self._client = httpx.Client(base_url=base_url.rstrip("/"), verify=tls, timeout=timeout_s,
                                    headers={"X-API-Key": api_key, "Content-Type": NDJSON})

    def submit(self, submission_id: str, raws: Sequence[bytes]) -> list[Receipt]:
        if any(b"\n" in raw for raw in raws):
            raise PlatformError("an event holding a newline cannot travel as one NDJSON line")
        try:
            response = self._client.post(f"/v1/runs/{self._run}/events", content=b"\n".join(raws),
                                         headers={"Idempotency-Key": submission_id})
        except httpx.TransportError as exc:
            raise TransientError(f"ingress unreachable: {exc}") from exc
        if response.status_code in (429, 503):
            raise TransientError(f"ingress {response.status_code} (retry after "
                                 f"{response.headers.get('Retry-After', '?')} s): {response.text[:200]}")
        if response.status_code != 200:
            raise PlatformError(f"ingress refused the batch: {response.status_code} {response.text[:300]}")
        receipts = [Receipt.model_validate(r, strict=False) for r in response.json()["receipts"]]
        if len(receipts) != len(raws):
            raise PlatformError(f"ingress answered {len(receipts)} receipts for {len(raws)} events")
        return receipts

    def close(self) -> None:
        self._client.close()
