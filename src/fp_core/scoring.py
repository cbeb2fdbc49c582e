"""Scoring with a pinned bundle: features from the join frame, a logistic score, a thresholded action."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from fp_core.canonical import digest
from fp_core.degrade import JoinFrame
from fp_core.model import FrozenModel
from fp_core.pins import Identifier


class ActionType(StrEnum):
    """The actions a decision may take, in increasing severity."""

    APPROVE = "APPROVE"
    STEP_UP = "STEP_UP"
    DECLINE = "DECLINE"


SEVERITY: dict[ActionType, int] = {ActionType.APPROVE: 0, ActionType.STEP_UP: 1, ActionType.DECLINE: 2}

FEATURES: tuple[str, ...] = (
    "amount_log10", "card_velocity_1h", "device_first_seen", "country_mismatch", "channel_web",
)


class ScoringBundle(FrozenModel):
    """A model bundle pinned by id + version + parameters; its digest goes into every decision."""

    bundle_id: Identifier
    version: Identifier
    bias: float
    weights: dict[str, float]
    step_up_threshold: Annotated[float, Field(gt=0, lt=1)]
    decline_threshold: Annotated[float, Field(gt=0, lt=1)]
    velocity_window_ms: Annotated[int, Field(gt=0)]

    def parameters_digest(self) -> str:
        return digest(self.model_dump(mode="json"))


class DecisionPolicy(FrozenModel):
    """How degrade and case triggering behave; pinned per run like the bundle."""

    policy_id: Identifier
    max_context_age_ms: Annotated[int, Field(gt=0)]
    readiness_bound_ms: Annotated[int, Field(ge=0)]
    degraded_action_cap: ActionType = ActionType.STEP_UP
    case_trigger_actions: tuple[ActionType, ...] = (ActionType.DECLINE,)


DEFAULT_BUNDLE = ScoringBundle(
    bundle_id="fraud-logit", version="1.0.0", bias=-6.0,
    weights={"amount_log10": 0.9, "card_velocity_1h": 0.8, "device_first_seen": 2.2,
             "country_mismatch": 2.0, "channel_web": 0.4},
    step_up_threshold=0.35, decline_threshold=0.7, velocity_window_ms=3_600_000,
)

DEFAULT_POLICY = DecisionPolicy(policy_id="fraud-policy-v1", max_context_age_ms=600_000,
                                readiness_bound_ms=2_000)


def extract_features(amount_minor: int, merchant_country: str, frame: JoinFrame,
                     card_velocity: int | None) -> dict[str, float]:
    """Features from whatever context the frame holds; absent context contributes nothing."""
    features = dict.fromkeys(FEATURES, 0.0)
    features["amount_log10"] = round(math.log10(amount_minor / 100 + 1), 6)
    if frame.entities is not None:
        ent = frame.entities.payload
        features["device_first_seen"] = 1.0 if ent["device_first_seen"] else 0.0
        features["country_mismatch"] = 1.0 if ent["card_country"] != merchant_country else 0.0
    if frame.arrival is not None:
        features["channel_web"] = 1.0 if frame.arrival.payload["channel"] == "web" else 0.0
    if card_velocity is not None:
        features["card_velocity_1h"] = float(min(card_velocity, 10))
    return features


def score(features: dict[str, float], bundle: ScoringBundle) -> float:
    z = bundle.bias + sum(bundle.weights.get(k, 0.0) * v for k, v in sorted(features.items()))
    return round(1.0 / (1.0 + math.exp(-z)), 6)


def choose_action(risk: float, bundle: ScoringBundle, degraded: bool, policy: DecisionPolicy) -> ActionType:
    """Threshold the score; a degraded decision is capped by policy (fail towards friction)."""
    if risk >= bundle.decline_threshold:
        action = ActionType.DECLINE
    elif risk >= bundle.step_up_threshold:
        action = ActionType.STEP_UP
    else:
        action = ActionType.APPROVE
    if degraded:
        cap = policy.degraded_action_cap
        if SEVERITY[action] > SEVERITY[cap]:
            action = cap
        elif action is ActionType.APPROVE and risk >= bundle.step_up_threshold / 2:
            action = ActionType.STEP_UP
    return action
