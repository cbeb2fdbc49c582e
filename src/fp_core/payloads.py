"""Payload schemas of the fraud-mode world: three context streams and the traffic stream."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from fp_core.model import FrozenModel

Ref = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class ArrivalEvent(FrozenModel):
    """A customer session arriving at a merchant."""

    arrival_id: Ref
    merchant_id: Ref
    customer_id: Ref
    channel: Literal["web", "app", "pos"]
    country: Country


class ArrivalEntities(FrozenModel):
    """The card, device and network seen in an arrival."""

    arrival_id: Ref
    merchant_id: Ref
    card_id: Ref
    device_id: Ref
    ip_prefix: Ref
    card_country: Country
    device_first_seen: bool


class FlowAnchor(FrozenModel):
    """Binds a payment flow to the arrival it belongs to."""

    flow_id: Ref
    arrival_id: Ref
    merchant_id: Ref


class Transaction(FrozenModel):
    """A payment attempt on a flow; the decision trigger."""

    txn_id: Ref
    flow_id: Ref
    merchant_id: Ref
    amount_minor: Annotated[int, Field(gt=0, le=100_000_000)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    merchant_country: Country
