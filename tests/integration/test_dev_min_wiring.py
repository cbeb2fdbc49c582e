"""dev_min wiring: credentials come only from SSM, the SASL_SSL listener enforces them, errors are clear."""

from __future__ import annotations

import pytest

from fp_adapters.containers import build_container
from fp_adapters.kafka.client_config import BusCredentials, client_config
from fp_adapters.kafka.names import TopicNames
from fp_adapters.kafka.producer import KafkaBusProducer
from fp_adapters.settings import load_settings
from fp_core.errors import ConfigError, NotFound
from fp_core.ports import OutboundMessage

pytestmark = pytest.mark.substrate


def test_unknown_environment_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"valid: \[.*'dev_min', .*'local_parity', .*'memory'.*\]"):
        build_container("prod_target")
    with pytest.raises(ConfigError, match="valid"):
        load_settings("nope")


def test_dev_min_reads_bus_credentials_from_ssm_at_start_up(substrate: None) -> None:
    container = build_container("dev_min")
    container.init_resources()
    try:
        creds: BusCredentials = container.adapters.credentials()
        assert creds.bootstrap == "127.0.0.1:19094" and creds.api_key and creds.api_secret
        assert "***" in repr(creds) and creds.api_secret not in repr(creds)
        conf = container.adapters.kafka_conf()
        assert conf["security.protocol"] == "SASL_SSL" and conf["sasl.mechanism"] == "PLAIN"
        assert str(conf["ssl.ca.location"]).endswith(".substrate/kafka/tls/ca.pem")
    finally:
        container.shutdown_resources()


def test_missing_ssm_parameters_fail_naming_the_parameter(substrate: None) -> None:
    settings = load_settings("dev_min")
    wrong = settings.model_copy(update={"bus": settings.bus.model_copy(
        update={"credentials_ssm_prefix": "/fraud-platform/dev_min/absent"})})
    container = build_container("dev_min", wrong)
    with pytest.raises(NotFound, match="/fraud-platform/dev_min/absent/bootstrap"):
        container.init_resources()
    container.shutdown_resources()


def test_sasl_listener_refuses_a_wrong_secret_and_verifies_the_broker(substrate: None) -> None:
    settings = load_settings("dev_min")
    container = build_container("dev_min")
    container.init_resources()
    good: BusCredentials = container.adapters.credentials()
    container.shutdown_resources()
    bus = settings.bus.model_copy(update={"delivery_timeout_s": 5.0})
    names = TopicNames(settings.bus.topic_prefix)
    msg = [OutboundMessage("fp.bus.control.v1", b"k", b'{"kind":"PING"}')]
    ok = KafkaBusProducer(client_config(bus, good), names, delivery_timeout_s=10).publish(msg)
    assert ok[0].origin is not None
    # the application's key reaches only the demo's topics (its ACLs), not local_parity's on the same broker
    outside = KafkaBusProducer(client_config(bus, good), TopicNames(), delivery_timeout_s=5).publish(msg)
    assert outside[0].origin is None and "AUTHORIZATION" in (outside[0].error or "")
    bad = BusCredentials(bootstrap=good.bootstrap, api_key=good.api_key, api_secret="wrong-secret")
    refused = KafkaBusProducer(client_config(bus, bad), names, delivery_timeout_s=5).publish(msg)
    assert refused[0].origin is None and refused[0].error
    untrusted = client_config(bus.model_copy(update={"ca_file": "/etc/ssl/certs/ca-certificates.crt"}), good)
    assert KafkaBusProducer(untrusted, names, delivery_timeout_s=5).publish(msg)[0].origin is None


def test_dev_min_resolves_ingress_keys_from_ssm(substrate: None) -> None:
    from fp_adapters.ingress_keys import authenticator, producer_key

    settings = load_settings("dev_min")
    container = build_container("dev_min", settings)
    store = container.adapters.secret_store()
    key = producer_key("wsp", settings.ingress.producers["wsp"], store)
    grant = authenticator(settings, store).authenticate(key)
    assert grant is not None and grant.producer_id == "wsp" and len(key) >= 32
