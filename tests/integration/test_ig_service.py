"""``fp-ig serve`` on the real substrate: authentication and authorisation, limits, rate, overload and
outage answers, TLS, graceful shutdown, receipts lookups, WSP over HTTP giving the in-process receipts
and decisions, and the OpenAPI document fuzzed by Schemathesis against the live service."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
import trustme
from hypothesis import HealthCheck, given, settings

from fp_adapters.containers import build_container
from fp_adapters.settings import SETTINGS_JSON_ENV, IngressSettings, ProducerSettings, Settings, load_settings
from fp_core.ingress import JSON, NDJSON
from fp_core.run_config import RunConfig
from fp_core.services.replay import decision_digest
from fp_ops.process import wait_healthy
from fp_ops.services.postgres import PostgresService
from tests.conftest import isolated_settings

pytestmark = [pytest.mark.substrate]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RUN = "pr-http"
CONFIG = RunConfig(env="local_parity", seed=13, events=400, ingest_batch=150)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    url: str
    keys: dict[str, str]
    proc: subprocess.Popen[bytes]
    settings: Settings
    log: Path

    def headers(self, producer: str = "wsp") -> dict[str, str]:
        return {"X-API-Key": self.keys[producer]}


def with_ingress(settings: Settings, tmp: Path, **limits: object) -> Settings:
    producers = {"wsp": ProducerSettings(key_file=str(tmp / "wsp.key")),
                 "bank": ProducerSettings(key_file=str(tmp / "bank.key"), runs=["pr-bank-*"])}
    ingress = IngressSettings(producers=producers, **limits)  # type: ignore[arg-type]
    return settings.model_copy(update={"ingress": ingress})


def start(settings: Settings, tmp: Path, *extra: str, scheme: str = "http",
          verify: ssl.SSLContext | bool = True) -> Service:
    port = free_port()
    log = tmp / f"serve-{port}.log"
    proc = subprocess.Popen([str(BIN / "fp-ig"), "serve", "--env", "local_parity", "--run-id", RUN, "--port",
                             str(port), *extra], env={**os.environ, SETTINGS_JSON_ENV: settings.model_dump_json()},
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"{scheme}://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", verify=verify, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
        assert proc.poll() is None, log.read_text()[-2000:]
    keys = {p: (tmp / f"{p}.key").read_text().strip() for p in ("wsp", "bank")}
    return Service(url, keys, proc, settings, log)


def stop(service: Service) -> None:
    if service.proc.poll() is None:
        os.killpg(service.proc.pid, signal.SIGTERM)
        service.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def ready(substrate: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    tmp = tmp_path_factory.mktemp("ingress")
    settings = with_ingress(isolated_settings(load_settings("local_parity"), f"http_{uuid.uuid4().hex[:6]}", 13),
                            tmp, max_batch_events=400, max_body_bytes=400_000, rate_events_per_s=500,
                            burst_events=1_000, body_timeout_s=2.0)
    container = build_container("local_parity", settings)
    container.init_resources()
    try:
        container.sr().ready(CONFIG, RUN)
    finally:
        container.shutdown_resources()
    return settings, tmp


@pytest.fixture(scope="module")
def service(ready: tuple[Settings, Path]) -> Iterator[Service]:
    svc = start(*ready)
    yield svc
    stop(svc)
    assert svc.proc.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a graceful stop
    log = svc.log.read_text()
    assert not any(key in log for key in svc.keys.values()), "an API key reached the service's log"


def envelope(pins: dict[str, object], n: int) -> dict[str, object]:
    return {"event_id": f"{n:032x}", "event_type": "transaction", "ts_utc": "2026-01-01T00:00:00.000+00:00",
            "pins": pins, "producer": "bank", "schema_version": "fp.event.v1",
            "payload": {"txn_id": f"t{n}", "flow_id": f"f{n}", "merchant_id": "m1", "amount_minor": 100 + n,
                        "currency": "GBP", "merchant_country": "GB"}}


def pins_of(service: Service) -> dict[str, object]:
    container = build_container("local_parity", service.settings)
    container.init_resources()
    try:
        return container.facts().read(RUN).ready.pins.model_dump(mode="json")
    finally:
        container.shutdown_resources()


def test_every_request_is_authenticated_authorised_and_limited(service: Service) -> None:
    events = f"{service.url}/v1/runs/{RUN}/events"
    pins = pins_of(service)
    body = "\n".join(json.dumps(envelope(pins, n)) for n in range(3)).encode()
    nd = {"Content-Type": NDJSON}
    assert httpx.post(events, content=body, headers=nd).status_code == 401
    wrong = httpx.post(events, content=body, headers={**nd, "X-API-Key": "not-a-key"})
    assert wrong.status_code == 401 and wrong.json()["field"] == "X-API-Key"
    other = httpx.post(events, content=body, headers={**nd, **service.headers("bank")})
    assert other.status_code == 403 and other.json()["field"] == "platform_run_id"  # not one of its runs
    elsewhere = httpx.post(f"{service.url}/v1/runs/pr-elsewhere/events", content=body,
                           headers={**nd, **service.headers()})
    assert elsewhere.status_code == 404
    big = httpx.post(events, content=b"{}\n" * 500, headers={**nd, **service.headers()})
    assert big.status_code == 413 and big.json()["field"] == "body"
    huge = httpx.post(events, content=b"x" * 400_001, headers={**nd, **service.headers()})
    assert huge.status_code == 413
    csv = httpx.post(events, content=b"{}", headers={"Content-Type": "text/csv", **service.headers()})
    assert csv.status_code == 415 and csv.json()["field"] == "content-type"
    obj = httpx.post(events, content=b'{"not": "an array"}', headers={"Content-Type": JSON, **service.headers()})
    assert obj.status_code == 422 and obj.json()["field"] == "body"
    bad_key = httpx.post(events, content=body, headers={**nd, **service.headers(), "Idempotency-Key": "a b"})
    assert bad_key.status_code == 422 and bad_key.json()["field"] == "Idempotency-Key"

    ok = httpx.post(events, content=body, headers={**nd, **service.headers(), "Idempotency-Key": "t-1"})
    assert ok.status_code == 200, ok.text
    receipts = ok.json()["receipts"]
    assert [r["outcome"] for r in receipts] == ["ADMIT"] * 3
    again = httpx.post(events, content=body, headers={**nd, **service.headers(), "Idempotency-Key": "t-1"})
    assert again.json()["receipts"] == receipts  # durable: the same receipts, nothing else happens
    one = httpx.get(f"{service.url}/v1/receipts/{receipts[0]['receipt_id']}", headers=service.headers())
    assert one.status_code == 200 and one.json() == receipts[0]
    hidden = httpx.get(f"{service.url}/v1/receipts/{receipts[0]['receipt_id']}", headers=service.headers("bank"))
    assert hidden.status_code == 404  # another run's receipt is not found for this producer
    by_event = httpx.get(f"{service.url}/v1/runs/{RUN}/receipts", params={"event_id": receipts[1]["event_id"]},
                         headers=service.headers())
    assert [r["receipt_id"] for r in by_event.json()] == [receipts[1]["receipt_id"]]
    for bad in ("\x00", "a b"):  # ids the platform never issues are refused naming the field (found by the fuzzer)
        refused = httpx.get(f"{service.url}/v1/runs/{RUN}/receipts", params={"event_id": bad},
                            headers=service.headers())
        assert refused.status_code == 422 and "event_id" in json.dumps(refused.json()), refused.text
    assert httpx.get(f"{service.url}/v1/receipts/x%00y", headers=service.headers()).status_code == 422
    assert httpx.get(f"{service.url}/readyz").json()["status"] == "ready"

    # rate: 500 events/s with a burst of 1,000 per producer
    many = "\n".join(json.dumps(envelope(pins, 1000 + n)) for n in range(400)).encode()
    answers = [httpx.post(events, content=many, headers={**nd, **service.headers(), "Idempotency-Key": f"r-{i}"})
               for i in range(9)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited and all(int(a.headers["Retry-After"]) >= 1 for a in limited), [a.status_code for a in answers]


def test_a_malformed_line_among_good_ones_is_the_only_one_quarantined(service: Service) -> None:
    pins = pins_of(service)
    lines = [json.dumps(envelope(pins, 9000 + n)).encode() for n in range(4)]
    lines.insert(2, b'{"event_id": "broken", "payload": ')
    r = httpx.post(f"{service.url}/v1/runs/{RUN}/events", content=b"\n".join(lines),
                   headers={"Content-Type": NDJSON, **service.headers()})
    assert r.status_code == 200, r.text
    assert [x["outcome"] for x in r.json()["receipts"]] == ["ADMIT", "ADMIT", "QUARANTINE", "ADMIT", "ADMIT"]
    assert r.json()["receipts"][2]["reason"] == "INVALID_ENVELOPE"


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_slow_bodies_time_out_and_a_thousand_connections_do_not_stop_the_service(service: Service) -> None:
    host, port = service.url.removeprefix("http://").split(":")

    async def slow_loris() -> bytes:
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"POST /v1/runs/{RUN}/events HTTP/1.1\r\nHost: x\r\nX-API-Key: {service.keys['wsp']}\r\n"
                     f"Content-Type: {NDJSON}\r\nContent-Length: 5000\r\n\r\n{{\"a\"".encode())
        await writer.drain()  # ... and never the rest
        status = await asyncio.wait_for(reader.readline(), timeout=30)
        writer.close()
        return status

    async def hold(n: int) -> list[bytes]:
        async def one() -> bytes:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), timeout=60)
            writer.close()
            return line
        return await asyncio.gather(*(one() for _ in range(n)))

    started = time.monotonic()
    assert asyncio.run(slow_loris()).startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 15
    rss_before = rss_kb(service.proc.pid)
    statuses = asyncio.run(hold(1000))
    # every connection is answered: served, or shed with 503 (uvicorn's connection limit), never dropped
    assert all(s.startswith((b"HTTP/1.1 200", b"HTTP/1.1 503")) for s in statuses), set(statuses)
    assert httpx.get(service.url + "/healthz").status_code == 200 and service.proc.poll() is None
    assert rss_kb(service.proc.pid) - rss_before < 100_000  # shedding, not growing


def test_an_outage_is_a_503_with_retry_after_and_the_same_request_later_succeeds(ready: tuple[Settings, Path]) -> None:
    settings, tmp = ready
    quick = settings.model_copy(update={"postgres": settings.require_postgres().model_copy(
        update={"reconnect_s": 2.0})})
    svc = start(quick, tmp)
    events = f"{svc.url}/v1/runs/{RUN}/events"
    body = json.dumps(envelope(pins_of(svc), 7777)).encode()
    headers = {"Content-Type": NDJSON, "Idempotency-Key": "outage-1", **svc.headers()}
    pg = PostgresService()
    try:
        pg.stop()
        down = httpx.post(events, content=body, headers=headers, timeout=60)
        assert down.status_code == 503 and down.headers["Retry-After"] == "1", down.text
        assert httpx.get(svc.url + "/readyz", timeout=30).status_code == 503
    finally:
        pg.start()
        wait_healthy(pg)
    for _ in range(60):  # what a client does with 503 + Retry-After: the same request again, later
        up = httpx.post(events, content=body, headers=headers, timeout=60)
        if up.status_code != 503:
            break
        time.sleep(int(up.headers["Retry-After"]))
    assert up.status_code == 200 and up.json()["receipts"][0]["outcome"] == "ADMIT", up.text
    stop(svc)


def test_tls_and_graceful_shutdown(ready: tuple[Settings, Path], tmp_path: Path) -> None:
    settings, tmp = ready
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    trusted = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    svc = start(settings, tmp, "--tls-cert", str(tmp_path / "server.pem"), "--tls-key", str(tmp_path / "server.pem"),
                scheme="https", verify=trusted)
    with pytest.raises(httpx.HTTPError):
        httpx.get(svc.url + "/healthz", verify=True, timeout=5)  # not a public CA: refused
    with pytest.raises(httpx.HTTPError):
        httpx.get(svc.url.replace("https", "http") + "/healthz", timeout=5)
    pins = pins_of(svc)
    body = "\n".join(json.dumps(envelope(pins, 5000 + n)) for n in range(400)).encode()
    answer: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: answer.append(httpx.post(
        f"{svc.url}/v1/runs/{RUN}/events", content=body, verify=trusted, timeout=60,
        headers={"Content-Type": NDJSON, **svc.headers()})))
    sender.start()
    time.sleep(0.15)  # the batch is in flight ...
    os.killpg(svc.proc.pid, signal.SIGTERM)  # ... when the service is told to stop
    sender.join(60)
    assert answer and answer[0].status_code == 200 and len(answer[0].json()["receipts"]) == 400
    assert svc.proc.wait(60) in (0, -signal.SIGTERM)


def test_wsp_over_http_gives_the_in_process_receipts_and_decisions(substrate: None, tmp_path: Path) -> None:
    inproc = isolated_settings(load_settings("local_parity"), f"http_ip_{uuid.uuid4().hex[:6]}", 14)
    over_http = with_ingress(isolated_settings(load_settings("local_parity"), f"http_wsp_{uuid.uuid4().hex[:6]}", 15),
                             tmp_path)
    for ns in (inproc, over_http):
        container = build_container("local_parity", ns)
        container.init_resources()
        container.sr().ready(CONFIG, RUN)
        container.shutdown_resources()
    service = start(over_http, tmp_path)
    results = []
    for ns, extra in ((inproc, ()), (over_http, ("--ingress", service.url))):
        env = {**os.environ, SETTINGS_JSON_ENV: ns.model_dump_json()}
        out = subprocess.run([str(BIN / "fp-wsp"), "--env", "local_parity", "--run-id", RUN, *extra], env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        decided = subprocess.run([str(BIN / "fp-rtdl"), "--env", "local_parity", "--run-id", RUN], env=env,
                                 capture_output=True, text=True, timeout=300)
        assert decided.returncode == 0, decided.stderr[-2000:]
        container = build_container("local_parity", ns)
        container.init_resources()
        try:
            receipts = {r.receipt_id: r.model_dump(mode="json") for r in
                        container.adapters.receipts().sample(RUN, 100_000)}
            decisions = {a.decision.decision_id: decision_digest(a.decision)
                         for a in container.adapters.audit_log().scan(RUN)}
        finally:
            container.shutdown_resources()
        results.append((receipts, decisions))
    stop(service)
    (ip_receipts, ip_decisions), (http_receipts, http_decisions) = results
    assert len(ip_receipts) == CONFIG.events and http_receipts == ip_receipts
    assert http_decisions == ip_decisions and len(ip_decisions) > 0


def test_the_openapi_document_fuzzed_against_the_live_service(service: Service) -> None:
    schema = schemathesis.openapi.from_path(ROOT / "docs/ig_openapi.json")

    @schemathesis.serializer(NDJSON)
    def ndjson(ctx: object, value: object) -> bytes:
        return value.encode() if isinstance(value, str) else json.dumps(value).encode()

    seen: dict[int, int] = {}

    def check(case: schemathesis.Case) -> None:
        if (case.path_parameters or {}).get("platform_run_id") not in (None, RUN):
            case.path_parameters["platform_run_id"] = RUN  # mostly the served run, so events reach IG
        response = case.call(base_url=service.url, headers=service.headers(), timeout=60)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500 or response.status_code == 503, response.text
        if 400 <= response.status_code < 500 and response.status_code != 404:
            body = response.json()
            assert body.get("field") or body.get("detail"), body  # a 4xx names the field
        if case.method == "POST" and response.status_code == 200:
            sent = case.body
            n = len(sent) if isinstance(sent, list) else len([x for x in str(sent).split("\n") if x.strip()])
            assert len(response.json()["receipts"]) == n  # every accepted input gets a receipt

    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: schemathesis.Case) -> None:
            check(case)

        fuzz()
    assert seen.get(200, 0) > 0, seen
    print(f"fuzzed responses by status: {dict(sorted(seen.items()))}")
