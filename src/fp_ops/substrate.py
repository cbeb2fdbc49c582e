"""The local_parity substrate: real Kafka (KRaft), PostgreSQL, Redis and the moto AWS API server.

Everything runs on loopback, on non-default ports, with data under ``.substrate/`` and a pid file per
service, so ``up`` is idempotent and ``down`` stops only what ``up`` started.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fp_adapters.settings import REPO_ROOT

SUBSTRATE = Path(os.environ.get("FP_SUBSTRATE_DIR", REPO_ROOT / ".substrate"))
KAFKA_POM = REPO_ROOT / "infra/local_parity/kafka/pom.xml"
KAFKA_LIBS = SUBSTRATE / "cache/kafka-libs"
PG_BIN = Path(os.environ.get("FP_PG_BIN", "/usr/lib/postgresql/15/bin"))

KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_SASL_PORT = 19092, 19093, 19094
POSTGRES_PORT, REDIS_PORT, MOTO_PORT = 15432, 16379, 15000


class SubstrateError(RuntimeError):
    """A service could not be started; the message names the service and its log file."""


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    address: str
    home: Path | None = None

    @property
    def dir(self) -> Path:
        return self.home or SUBSTRATE / self.name

    @property
    def log(self) -> Path:
        return self.dir / f"{self.name}.log"

    @property
    def pid_file(self) -> Path:
        return self.dir / "pid"


KAFKA = Service("kafka", KAFKA_PORT, f"127.0.0.1:{KAFKA_PORT}")
def traversable_by_others(path: Path) -> bool:
    """Whether a non-owner (the postgres user) can reach ``path``: every existing ancestor is o+x."""
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents] if p.exists())


def postgres_home() -> Path:
    """Postgres runs as the postgres user when we are root: its data must sit where that user can reach
    it. Inside the repo when possible, otherwise a per-repository directory under /var/tmp."""
    inside = SUBSTRATE / "postgres"
    if os.geteuid() != 0 or traversable_by_others(SUBSTRATE.parent):
        return inside
    import hashlib

    return Path("/var/tmp") / f"fp-substrate-{hashlib.sha256(str(REPO_ROOT).encode()).hexdigest()[:10]}" / "postgres"


POSTGRES = Service("postgres", POSTGRES_PORT, f"postgresql://fp@127.0.0.1:{POSTGRES_PORT}/fraud_platform",
                   postgres_home())
REDIS = Service("redis", REDIS_PORT, f"redis://127.0.0.1:{REDIS_PORT}/0")
MOTO = Service("moto", MOTO_PORT, f"http://127.0.0.1:{MOTO_PORT}")
SERVICES = (KAFKA, POSTGRES, REDIS, MOTO)


def say(msg: str) -> None:
    print(f"[substrate] {msg}", file=sys.stderr, flush=True)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def read_pid(svc: Service) -> int | None:
    if svc is POSTGRES:
        pm = pg_data() / "postmaster.pid"
        if pm.exists():
            return int(pm.read_text().splitlines()[0])
        return None
    try:
        return int(svc.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return True


def running(svc: Service) -> bool:
    return alive(read_pid(svc))


def wait_until(svc: Service, check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # health probes fail in many driver-specific ways while starting
            last = f"{type(exc).__name__}: {exc}"
        if not running(svc):
            raise SubstrateError(f"{svc.name} exited during start-up; see {svc.log}")
        time.sleep(0.5)
    raise SubstrateError(f"{svc.name} not healthy after {timeout_s:.0f}s ({last}); see {svc.log}")


def spawn(svc: Service, argv: list[str], env: dict[str, str] | None = None) -> None:
    if port_open(svc.port):
        raise SubstrateError(f"{svc.name}: port {svc.port} is in use by another process; see {svc.log}")
    svc.dir.mkdir(parents=True, exist_ok=True)
    with svc.log.open("ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env={**os.environ, **(env or {})}, cwd=svc.dir)
    svc.pid_file.write_text(str(proc.pid))


# ---------------------------------------------------------------- Kafka
def kafka_jars(libs: Path = KAFKA_LIBS, maven_args: tuple[str, ...] = (), log: Path | None = None) -> None:
    """The broker jars pinned by the POM, copied from Maven Central into the git-ignored cache."""
    if libs.is_dir() and any(libs.glob("kafka_2.13-*.jar")):
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise SubstrateError("kafka: Maven (mvn) is not installed; run the README setup command")
    say("kafka: fetching broker jars with Maven (first time only)")
    proc = subprocess.run([mvn, "-q", "-B", *maven_args, "-f", str(KAFKA_POM), "dependency:copy-dependencies",
                           f"-DoutputDirectory={libs}"], capture_output=True, text=True)
    if proc.returncode != 0 or not any(libs.glob("kafka_2.13-*.jar")):
        log = log or KAFKA.log
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(proc.stdout + proc.stderr)
        raise SubstrateError("kafka: could not fetch the broker jars from Maven Central (is it reachable?); "
                             f"Maven output in {log}. The broker is never swapped for another.")


def kafka_properties(extra_listeners: dict[str, str] | None = None, extra: str = "") -> Path:
    listeners = {"PLAINTEXT": f"127.0.0.1:{KAFKA_PORT}", "CONTROLLER": f"127.0.0.1:{KAFKA_CONTROLLER_PORT}",
                 **(extra_listeners or {})}
    protocol = {"PLAINTEXT": "PLAINTEXT", "CONTROLLER": "PLAINTEXT", "SASL_SSL": "SASL_SSL"}
    template = (REPO_ROOT / "infra/local_parity/kafka/server.properties.template").read_text()
    props = template.format(
        controller_port=KAFKA_CONTROLLER_PORT,
        listeners=",".join(f"{k}://{v}" for k, v in listeners.items()),
        advertised=",".join(f"{k}://{v}" for k, v in listeners.items() if k != "CONTROLLER"),
        protocol_map=",".join(f"{k}:{protocol[k]}" for k in listeners),
        log_dir=KAFKA.dir / "data", extra=extra)
    path = KAFKA.dir / "server.properties"
    path.write_text(props)
    return path


def java() -> str:
    exe = shutil.which("java")
    if exe is None:
        raise SubstrateError("kafka: java is not installed; run the README setup command")
    return exe


def cluster_id() -> str:
    """A KRaft cluster id: base64url of a random UUID, never starting with '-' (which the storage tool
    would read as an option; Kafka's own Uuid.randomUuid avoids it the same way)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def start_kafka() -> None:
    """One broker, two listeners: PLAINTEXT (local_parity) and SASL_SSL/PLAIN (the managed emulation)."""
    if running(KAFKA):
        return
    from fp_ops.managed_kafka import broker_settings

    kafka_jars()
    KAFKA.dir.mkdir(parents=True, exist_ok=True)
    extra_listeners, extra = broker_settings()
    props = kafka_properties(extra_listeners, extra)
    props.chmod(0o600)
    cid_file = KAFKA.dir / "cluster_id"
    if not cid_file.exists() or cid_file.read_text().startswith("-"):
        cid_file.write_text(cluster_id())
    classpath = f"{KAFKA_LIBS}/*"
    log4j = f"-Dlog4j.configuration=file:{REPO_ROOT / 'infra/local_parity/kafka/log4j.properties'}"
    if not (KAFKA.dir / "data/meta.properties").exists():
        cid = cid_file.read_text().strip()
        fmt = subprocess.run([java(), log4j, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", cid,
                              "-c", str(props), "--ignore-formatted"], capture_output=True, text=True)
        if fmt.returncode != 0:
            KAFKA.log.write_text(fmt.stdout + fmt.stderr)
            raise SubstrateError(f"kafka: storage format failed; see {KAFKA.log}")
    spawn(KAFKA, [java(), "-Xms256m", "-Xmx1g", "-XX:+UseG1GC", log4j, "-cp", classpath,
                  "kafka.Kafka", str(props)])


def kafka_healthy() -> bool:
    """A real round trip: metadata, then a produce and a group commit (the coordinator must be loaded)."""
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    conf: dict[str, str | int | float | bool] = {"bootstrap.servers": KAFKA.address, "log_level": 0}
    admin = AdminClient(conf)
    topics = admin.list_topics(timeout=5).topics
    if "fp.substrate.health" not in topics:
        for fut in admin.create_topics([NewTopic("fp.substrate.health", 1, 1)]).values():
            try:
                fut.result(10)
            except Exception as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise
    producer = Producer({**conf, "acks": "all"})
    producer.produce("fp.substrate.health", b"ping")
    if producer.flush(10) != 0:
        return False
    consumer = Consumer({**conf, "group.id": "fp-substrate-health", "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition("fp.substrate.health", 0, 0)], asynchronous=False)
        return True
    finally:
        consumer.close()


# ---------------------------------------------------------------- PostgreSQL
def pg_data() -> Path:
    return POSTGRES.dir / "data"


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def start_postgres() -> None:
    if running(POSTGRES):
        return
    if not (PG_BIN / "initdb").exists():
        raise SubstrateError(f"postgres: binaries not found in {PG_BIN}; run the README setup command")
    POSTGRES.dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        for d in (POSTGRES.dir.parent, POSTGRES.dir):
            d.chmod(0o755)
        shutil.chown(POSTGRES.dir, "postgres", "postgres")
        if not traversable_by_others(POSTGRES.dir.parent):
            raise SubstrateError(f"postgres: {POSTGRES.dir} is not reachable by the postgres user; "
                                 f"set FP_SUBSTRATE_DIR to a world-traversable location")
    if not (pg_data() / "PG_VERSION").exists():
        res = subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(pg_data()), "-U", "fp",
                                           "--auth=trust", "-E", "UTF8", "--no-sync"]),
                             capture_output=True, text=True)
        if res.returncode != 0:
            POSTGRES.log.write_text(res.stdout + res.stderr)
            raise SubstrateError(f"postgres: initdb failed; see {POSTGRES.log}")
    if port_open(POSTGRES.port):
        raise SubstrateError(f"postgres: port {POSTGRES.port} is in use by another process")
    if os.geteuid() == 0:
        POSTGRES.log.touch()
        shutil.chown(POSTGRES.log, "postgres", "postgres")
    opts = (f"-p {POSTGRES_PORT} -c listen_addresses=127.0.0.1 -k {POSTGRES.dir} -c shared_buffers=256MB "
            "-c max_connections=100 -c wal_compression=on")
    res = subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(pg_data()), "-l", str(POSTGRES.log),
                                       "-o", opts, "-w", "-t", "60", "start"]), capture_output=True, text=True)
    if res.returncode != 0:
        raise SubstrateError(f"postgres: start failed ({res.stderr.strip()[:200]}); see {POSTGRES.log}")


def postgres_healthy() -> bool:
    import psycopg

    with psycopg.connect(f"postgresql://fp@127.0.0.1:{POSTGRES_PORT}/postgres", autocommit=True,
                         connect_timeout=3) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'fraud_platform'").fetchone()
        if not exists:
            conn.execute("CREATE DATABASE fraud_platform")
    return True


def stop_postgres() -> None:
    if running(POSTGRES):
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(pg_data()), "-m", "fast", "-w",
                                     "stop"]), capture_output=True)


# ---------------------------------------------------------------- Redis, moto
def start_redis() -> None:
    if running(REDIS):
        return
    exe = shutil.which("redis-server")
    if exe is None:
        raise SubstrateError("redis: redis-server is not installed; run the README setup command")
    REDIS.dir.mkdir(parents=True, exist_ok=True)
    spawn(REDIS, [exe, "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--dir", str(REDIS.dir),
                  "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
                  "--logfile", str(REDIS.log)])


def redis_healthy() -> bool:
    import redis

    return bool(redis.Redis(port=REDIS_PORT, socket_timeout=2).ping())


def start_moto() -> None:
    if running(MOTO):
        return
    exe = Path(sys.executable).with_name("moto_server")
    if not exe.exists():
        raise SubstrateError("moto: moto_server is not installed in this environment (pip extra 'substrate')")
    spawn(MOTO, [str(exe), "-H", "127.0.0.1", "-p", str(MOTO_PORT)])


def moto_healthy() -> bool:
    import urllib.request

    with urllib.request.urlopen(f"{MOTO.address}/moto-api/", timeout=2) as resp:
        return bool(resp.status == 200)


HEALTH: dict[str, Callable[[], bool]] = {"kafka": kafka_healthy, "postgres": postgres_healthy,
                                         "redis": redis_healthy, "moto": moto_healthy}


def up() -> dict[str, float]:
    """Start what is not running, wait for real health, provision; returns seconds per step."""
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    start_kafka()
    start_postgres()
    start_redis()
    start_moto()
    timings["start"] = round(time.monotonic() - t0, 2)
    for svc in SERVICES:
        t = time.monotonic()
        wait_until(svc, HEALTH[svc.name], 90 if svc is KAFKA else 30)
        timings[f"healthy_{svc.name}"] = round(time.monotonic() - t, 2)
    t = time.monotonic()
    from fp_ops.provision import provision_all

    provision_all()
    timings["provision"] = round(time.monotonic() - t, 2)
    timings["total"] = round(time.monotonic() - t0, 2)
    return timings


def down() -> list[str]:
    stopped = []
    stop_postgres()
    for svc in (KAFKA, REDIS, MOTO):
        pid = read_pid(svc)
        if alive(pid):
            assert pid is not None
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if alive(pid):
                os.killpg(pid, signal.SIGKILL)
            stopped.append(svc.name)
        svc.pid_file.unlink(missing_ok=True)
    return ["postgres", *stopped]


def status() -> list[dict[str, str | bool]]:
    return [{"service": s.name, "running": running(s), "address": s.address, "log": str(s.log)} for s in SERVICES]
