"""Kafka (confluent-kafka): idempotent producer, manual-commit consumer, topic provisioning."""
