"""Event-class resolution from the pinned class map (IG's canonical classification)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

from fp_core import topics
from fp_core.model import FrozenModel
from fp_core.payloads import ArrivalEntities, ArrivalEvent, FlowAnchor, Transaction


class EventClass(FrozenModel):
    """What an event type is admitted as: its class, its topic, and the schema of its payload."""

    name: str
    topic: str
    payload_schema: str


CLASS_MAP_VERSION = "fp.class_map.fraud.v1"

PAYLOAD_SCHEMAS: Mapping[str, type[BaseModel]] = {
    "arrival_event.v1": ArrivalEvent,
    "arrival_entities.v1": ArrivalEntities,
    "flow_anchor.v1": FlowAnchor,
    "transaction.v1": Transaction,
}

FRAUD_CLASS_MAP: Mapping[str, EventClass] = {
    "arrival_event": EventClass(name="context_arrival_events", topic=topics.CONTEXT_ARRIVAL_EVENTS,
                                payload_schema="arrival_event.v1"),
    "arrival_entities": EventClass(name="context_arrival_entities", topic=topics.CONTEXT_ARRIVAL_ENTITIES,
                                   payload_schema="arrival_entities.v1"),
    "flow_anchor": EventClass(name="context_flow_anchor", topic=topics.CONTEXT_FLOW_ANCHOR,
                              payload_schema="flow_anchor.v1"),
    "transaction": EventClass(name="traffic_fraud", topic=topics.TRAFFIC_FRAUD,
                              payload_schema="transaction.v1"),
}

TRAFFIC_CLASS = "traffic_fraud"


def resolve_event_class(event_type: str, class_map: Mapping[str, EventClass]) -> EventClass | None:
    """The pinned class of ``event_type``, or None: an unknown type is quarantined, never guessed."""
    return class_map.get(event_type)
