"""CPU seconds per component of a run, from the kernel's own accounting (``/proc/<pid>/stat``).

A component is a process tree: its live processes' user+system time plus what they reaped from
children that ended (Postgres backends, the RTDL process). The difference of two snapshots is the CPU a
component spent between them, whatever started or ended in between. Components: this process (WSP, IG
and the orchestrator's stages), its children (RTDL), and each running substrate service.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

from fp_ops.substrate import services

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, own + reaped children's CPU seconds)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return ppid, (utime + stime + cutime + cstime) / TICK


def _processes() -> dict[int, tuple[int, float]]:
    out: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None:
                out[int(entry)] = st
    return out


def _tree_seconds(root: int, procs: dict[int, tuple[int, float]]) -> float:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _s) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        if pid in procs:
            total += procs[pid][1]
            stack.extend(children.get(pid, []))
    return total


def snapshot() -> dict[str, float]:
    """CPU seconds so far per component (a substrate service that is not running is left out)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {"platform_process": me.ru_utime + me.ru_stime, "rtdl_process": kids.ru_utime + kids.ru_stime}
    procs = _processes()
    for service in services():  # the substrate's own services, found by their own pid records
        pid = service.pid()
        if pid in procs:
            out[service.name] = _tree_seconds(pid, procs)
    return out


def per_event_us(before: dict[str, float], after: dict[str, float], events: int) -> dict[str, float]:
    """CPU microseconds per event per component between two snapshots, and their ``total``."""
    out = {name: round((after[name] - before.get(name, 0.0)) * 1e6 / max(events, 1), 1) for name in after}
    out["total"] = round(sum(out.values()), 1)
    return out
