"""Law 1: canonical JSON + SHA-256; deterministic event ids; config digest sensitivity."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fp_core.canonical import canonical_json, digest, reference_json
from fp_core.identity import IdDeriver, PositionIds, derive_event_id, derive_id, event_ids, payload_hash
from fp_core.run_config import RunConfig, config_digest

json_scalars = st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.text(max_size=8) | st.floats(
    allow_nan=False, allow_infinity=False)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=6), inner, max_size=4), max_leaves=12)


def reorder(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: reorder(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reorder(v) for v in value]
    return value


@given(st.dictionaries(st.text(max_size=6), json_values, max_size=6))
def test_hash_ignores_key_order_and_whitespace(payload: dict[str, Any]) -> None:
    spaced = json.loads(json.dumps(reorder(payload), indent=3))
    assert payload_hash(payload) == payload_hash(spaced)


@given(json_values, json_values)
def test_hash_equal_iff_canonical_equal(a: Any, b: Any) -> None:
    assert (digest(a) == digest(b)) == (canonical_json(a) == canonical_json(b))


def test_derived_ids_refuse_ambiguous_parts() -> None:
    assert derive_id("k", "a", 1) != derive_id("k", "a1")
    with pytest.raises(ValueError, match="unit separator"):
        derive_id("k", "a\x1fb")


def test_canonical_json_is_compact_sorted_utf8() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()


ident = st.text(st.characters(blacklist_characters="\x1f"), min_size=1, max_size=10)


@given(ident, ident, ident)
def test_event_id_is_stable_and_32_hex(scenario: str, stream: str, key: str) -> None:
    a = derive_event_id(scenario, stream, key)
    assert a == derive_event_id(scenario, stream, key)
    assert len(a) == 32 and int(a, 16) >= 0
    assert a != derive_event_id(scenario + "x", stream, key)


@given(ident, st.lists(ident | st.integers(0, 10**9), max_size=3),
       st.lists(ident | st.integers(0, 10**9) | st.just("a\x1fb"), min_size=1, max_size=3))
def test_an_id_deriver_gives_derive_ids_ids(kind: str, leading: list[str | int], parts: list[str | int]) -> None:
    if any(isinstance(p, str) and "\x1f" in p for p in parts):
        with pytest.raises(ValueError, match="unit separator"):
            IdDeriver(kind, *leading)(*parts)
        with pytest.raises(ValueError, match="unit separator"):
            derive_id(kind, *leading, *parts)
        return
    assert IdDeriver(kind, *leading)(*parts) == derive_id(kind, *leading, *parts)


@given(ident, ident, ident)
def test_a_runs_event_ids_are_derived_ids_of_kind_event(scenario: str, stream: str, key: str) -> None:
    assert event_ids(scenario)(stream, key) == derive_event_id(scenario, stream, key) \
        == derive_id("event", scenario, stream, key)


def test_an_id_deriver_refuses_a_separator_in_its_leading_parts_and_an_id_of_no_parts() -> None:
    with pytest.raises(ValueError, match="unit separator"):
        IdDeriver("k", "a\x1fb")
    with pytest.raises(ValueError, match="at least one part"):
        IdDeriver("k", "a")()


@given(ident, st.lists(ident | st.integers(0, 10**9), min_size=1, max_size=3),
       st.lists(st.integers(0, 16**8 - 1), min_size=2, max_size=50, unique=True))
def test_position_ids_are_32_hex_distinct_and_ordered_as_their_positions(
        kind: str, leading: list[str | int], positions: list[int]) -> None:
    ids = PositionIds(kind, *leading)
    made = [ids(p) for p in positions]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in made)
    assert len(set(made)) == len(made)
    assert sorted(made) == [ids(p) for p in sorted(positions)]
    assert {i[:24] for i in made} == {derive_id(kind, *leading)[:24]}
    assert PositionIds(kind, *leading, "other")(positions[0]) != made[0]


@pytest.mark.parametrize("position", [-1, 16**8])
def test_position_ids_refuse_a_position_out_of_range(position: int) -> None:
    with pytest.raises(ValueError, match="position must be in"):
        PositionIds("receipt", "run", "s")(position)


@given(st.integers(0, 1000), st.integers(8, 10**6), st.sampled_from(["duplicates", "lag", "quarantine"]))
def test_config_digest_changes_iff_config_changes(seed: int, events: int, drill: str) -> None:
    base = RunConfig(env="local_parity", seed=seed, events=events)
    assert config_digest(base) == config_digest(RunConfig(env="local_parity", seed=seed, events=events))
    assert config_digest(base) != config_digest(base.model_copy(update={"seed": seed + 1}))
    assert config_digest(base) != config_digest(base.model_copy(update={"events": events + 1}))
    assert config_digest(base) != config_digest(base.model_copy(update={"drills": (drill,)}))
    assert config_digest(base) != config_digest(base.model_copy(update={"env": "dev_min"}))


def test_config_digest_ignores_drill_order() -> None:
    a = RunConfig(env="e", seed=1, events=100, drills=("lag", "duplicates"))
    b = RunConfig(env="e", seed=1, events=100, drills=("duplicates", "lag"))
    assert config_digest(a) == config_digest(b)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.text(alphabet=st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF, exclude_categories=("Cs",))),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=8), children, max_size=6),
    max_leaves=40)


@settings(max_examples=1500, deadline=None)
@given(JSONISH)
def test_the_fast_encoder_is_byte_identical_to_the_reference(value: Any) -> None:
    assert canonical_json(value) == reference_json(value)


@settings(max_examples=3000, deadline=None)
@given(st.floats(min_value=-1e280, max_value=1e280),
       st.dictionaries(st.text(max_size=4), st.integers(), max_size=5))
def test_floats_and_key_order_match_the_reference(x: float, d: dict[str, int]) -> None:
    value = {"x": x, "tiny": x / 1e20, "big": x * 1e20, **d}
    assert canonical_json(value) == reference_json(value)
    assert canonical_json(dict(reversed(list(value.items())))) == canonical_json(value)


def test_what_the_reference_refuses_is_refused() -> None:
    for bad in (float("nan"), {"x": float("inf")}):
        with pytest.raises(ValueError):
            canonical_json(bad)
    tricky = {"n": None, "s": "null 0.00001 e-8"}
    assert canonical_json(tricky) == reference_json(tricky)
    assert canonical_json({1: "a"}) == reference_json({1: "a"})
    assert canonical_json(2**80) == b"1208925819614629174706176"
