"""What an operator sees while ``fp run`` works: on a terminal, a progress bar per plane (WSP->IG
receipts, RTDL decisions) with events/s, read from the durable stores once a second; otherwise one
plain line per stage."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

from fp_adapters.containers import Platform


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:>9,.0f} ev/s" if speed else "        - ev/s", style="cyan")


@contextmanager
def run_progress(console: Console, container: Platform, platform_run_id: str,
                 events: int | None) -> Iterator[Callable[[str], None]]:
    """Yields the workflow's ``progress(stage)`` callback."""
    if not console.is_terminal or not events:
        yield lambda stage: console.print(f"  [cyan]stage[/cyan] {stage}")
        return
    receipts, actions = container.adapters.receipts(), container.adapters.action_log()
    stop = threading.Event()
    with Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        stage_task = bar.add_task("stage: starting", total=None)
        ingest = bar.add_task("WSP -> IG receipts", total=events)
        decide = bar.add_task("RTDL decisions", total=max(1, events // 4))

        def poll() -> None:
            while not stop.wait(1.0):
                try:
                    got = sum(sum(c.values()) for c in receipts.counts(platform_run_id).values())
                    made = actions.outcome_counts(platform_run_id)["outcomes"]
                except Exception:
                    continue
                bar.update(ingest, completed=min(got, events))
                bar.update(decide, completed=made)

        poller = threading.Thread(target=poll, name="fp-progress", daemon=True)
        poller.start()
        try:
            yield lambda stage: bar.update(stage_task, description=f"stage: {stage}")
        finally:
            stop.set()
            poller.join(timeout=5)
