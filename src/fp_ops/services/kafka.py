"""Apache Kafka (KRaft, combined mode) from the broker jars pinned by the POM, on Java 17: one broker,
two listeners: PLAINTEXT (local_parity) and SASL_SSL/PLAIN (the emulated managed endpoint)."""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from pathlib import Path

from fp_adapters.settings import REPO_ROOT
from fp_ops import layout
from fp_ops.managed_kafka import broker_settings
from fp_ops.process import SpawnedService, SubstrateError, say

HEALTH_TOPIC = "fp.substrate.health"


def kafka_jars(libs: Path | None = None, maven_args: tuple[str, ...] = (), log: Path | None = None) -> None:
    """The broker jars pinned by the POM, copied from Maven Central into the git-ignored cache."""
    libs = libs or layout.kafka_libs()
    if libs.is_dir() and any(libs.glob("kafka_2.13-*.jar")):
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise SubstrateError("kafka: Maven (mvn) is not installed; run the README setup command")
    say("kafka: fetching broker jars with Maven (first time only)")
    proc = subprocess.run([mvn, "-q", "-B", *maven_args, "-f", str(layout.KAFKA_POM), "dependency:copy-dependencies",
                           f"-DoutputDirectory={libs}"], capture_output=True, text=True)
    if proc.returncode != 0 or not any(libs.glob("kafka_2.13-*.jar")):
        log = log or layout.kafka_dir() / "kafka.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(proc.stdout + proc.stderr)
        raise SubstrateError("kafka: could not fetch the broker jars from Maven Central (is it reachable?); "
                             f"Maven output in {log}. The broker is never swapped for another.")


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


JVM_OPTIONS = ("-Xms1g", "-Xmx1g", "-XX:+UseParallelGC", "-XX:TieredStopAtLevel=1")
"""A broker that is started for runs of minutes on two cores: C1 only (C2 spent 1.8 s of CPU compiling in
every 100k-event run, the first and the second after a start), a fixed heap and the parallel collector (G1's
concurrent marking and resizing from 256 MB cost 1.1 s per run). Kafka's CPU per event: 61 / 42 -> 27 / 16
us in the first / second run after a start; raw produce+consume unchanged (62-68k ev/s). D59."""


class KafkaService(SpawnedService):
    start_timeout_s = 90.0

    def __init__(self) -> None:
        super().__init__("kafka", layout.KAFKA_PORT, f"127.0.0.1:{layout.KAFKA_PORT}", layout.kafka_dir)

    def properties(self, extra_listeners: dict[str, str] | None = None, extra: str = "") -> Path:
        listeners = {"PLAINTEXT": f"127.0.0.1:{layout.KAFKA_PORT}",
                     "CONTROLLER": f"127.0.0.1:{layout.KAFKA_CONTROLLER_PORT}", **(extra_listeners or {})}
        protocol = {"PLAINTEXT": "PLAINTEXT", "CONTROLLER": "PLAINTEXT", "SASL_SSL": "SASL_SSL"}
        template = (REPO_ROOT / "infra/local_parity/kafka/server.properties.template").read_text()
        props = template.format(
            controller_port=layout.KAFKA_CONTROLLER_PORT,
            listeners=",".join(f"{k}://{v}" for k, v in listeners.items()),
            advertised=",".join(f"{k}://{v}" for k, v in listeners.items() if k != "CONTROLLER"),
            protocol_map=",".join(f"{k}:{protocol[k]}" for k in listeners),
            log_dir=self.dir / "data", extra=extra)
        path = self.dir / "server.properties"
        path.write_text(props)
        return path

    def start(self) -> None:
        if self.running():
            return
        kafka_jars()
        self.dir.mkdir(parents=True, exist_ok=True)
        extra_listeners, extra = broker_settings()
        props = self.properties(extra_listeners, extra)
        props.chmod(0o600)
        cid_file = self.dir / "cluster_id"
        if not cid_file.exists() or cid_file.read_text().startswith("-"):
            cid_file.write_text(cluster_id())
        classpath = f"{layout.kafka_libs()}/*"
        log4j = f"-Dlog4j.configuration=file:{REPO_ROOT / 'infra/local_parity/kafka/log4j.properties'}"
        if not (self.dir / "data/meta.properties").exists():
            cid = cid_file.read_text().strip()
            fmt = subprocess.run([java(), log4j, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", cid,
                                  "-c", str(props), "--ignore-formatted"], capture_output=True, text=True)
            if fmt.returncode != 0:
                self.log.write_text(fmt.stdout + fmt.stderr)
                raise SubstrateError(f"kafka: storage format failed; see {self.log}")
        self.spawn([java(), *JVM_OPTIONS, log4j, "-cp", classpath, "kafka.Kafka",
                    str(props)])

    def healthy(self) -> bool:
        """A real round trip: metadata, then a produce and a group commit (the coordinator must be loaded)."""
        from confluent_kafka import Consumer, Producer, TopicPartition
        from confluent_kafka.admin import AdminClient
        from confluent_kafka.cimpl import NewTopic

        conf: dict[str, str | int | float | bool] = {"bootstrap.servers": self.address, "log_level": 0}
        admin = AdminClient(conf)
        if HEALTH_TOPIC not in admin.list_topics(timeout=5).topics:
            for fut in admin.create_topics([NewTopic(HEALTH_TOPIC, 1, 1)]).values():
                try:
                    fut.result(10)
                except Exception as exc:
                    if "TOPIC_ALREADY_EXISTS" not in str(exc):
                        raise
        producer = Producer({**conf, "acks": "all"})
        producer.produce(HEALTH_TOPIC, b"ping")
        if producer.flush(10) != 0:
            return False
        consumer = Consumer({**conf, "group.id": "fp-substrate-health", "enable.auto.commit": False})
        try:
            consumer.commit(offsets=[TopicPartition(HEALTH_TOPIC, 0, 0)], asynchronous=False)
            return True
        finally:
            consumer.close()
