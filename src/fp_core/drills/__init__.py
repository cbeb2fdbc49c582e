"""Incident drills (seed 12.4, 13.5): one class per drill (``catalog``) holding how it shapes the run's
input and how its verdict is read. They act only as decorators around the real ports
(``hooks.DrillHooks``: a shaping stream source for WSP, a pausing bus consumer for RTDL), so the
production classes know nothing of drills."""

from fp_core.drills.names import ALL_DRILLS, DrillName
from fp_core.drills.record import DrillRecord

__all__ = ["ALL_DRILLS", "DrillName", "DrillRecord"]
