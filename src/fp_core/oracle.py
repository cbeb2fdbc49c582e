"""The sealed oracle: manifest of digests, PASS flag, and the gate SR applies ("no PASS, no read")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field

from fp_core.canonical import digest
from fp_core.errors import GateRefused
from fp_core.model import FrozenModel
from fp_core.pins import HexDigest, Identifier

ORACLE_PREFIX = "oracle"


def oracle_root(scenario_run_id: str) -> str:
    return f"{ORACLE_PREFIX}/{scenario_run_id}"


class OracleObject(FrozenModel):
    key: str
    sha256: HexDigest
    rows: Annotated[int, Field(ge=0)]
    kind: Identifier


class OracleManifest(FrozenModel):
    scenario_run_id: Identifier
    world_version: str
    seed: int
    events: int
    objects: tuple[OracleObject, ...]
    counts_by_type: dict[str, int]

    def fingerprint(self) -> str:
        """The manifest fingerprint runs pin: digest over the manifest's canonical form."""
        return digest(self.model_dump(mode="json"))

    def stream_view_keys(self) -> list[str]:
        return [o.key for o in self.objects if o.kind == "stream_view"]

    def label_keys(self) -> list[str]:
        return [o.key for o in self.objects if o.kind == "labels"]


class PassFlag(FrozenModel):
    scenario_run_id: Identifier
    manifest_fingerprint: HexDigest
    status: str = "PASS"


def check_gate(manifest: OracleManifest, flag: PassFlag | None, object_digests: Mapping[str, str]) -> str:
    """Return the manifest fingerprint if the oracle is sealed and intact; raise GateRefused otherwise."""
    if flag is None:
        raise GateRefused(f"no PASS flag for {manifest.scenario_run_id}: no PASS, no read")
    if flag.status != "PASS":
        raise GateRefused(f"PASS flag status is {flag.status!r}, not 'PASS'")
    fingerprint = manifest.fingerprint()
    if flag.manifest_fingerprint != fingerprint:
        raise GateRefused("PASS flag does not seal this manifest (manifest_fingerprint differs)")
    for obj in manifest.objects:
        seen = object_digests.get(obj.key)
        if seen is None:
            raise GateRefused(f"oracle object {obj.key} is missing")
        if seen != obj.sha256:
            raise GateRefused(f"oracle object {obj.key} digest {seen[:12]} != manifest {obj.sha256[:12]}")
    return fingerprint
