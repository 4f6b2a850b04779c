"""``coffre projections``: the workers that follow the event log, and their views.

Run next to the data (the ``server`` extra). ``run`` follows the log (all projections,
or ``--only`` some: the trail is the slowest, and in a worker of its own it no longer
holds the patients' views back); ``rebuild`` replays one from the first event; ``lag``
and ``retry`` are for monitoring and for a projection stalled at an event.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from client.cli.common import err, fail, out
from coffre.cli_admin import opened
from projections.runner import ProjectionRunner
from projections.source import Event, EventSource

projections_app = typer.Typer(help="Projection workers and views.", no_args_is_help=True)


@projections_app.command("run")
def projections_run(
    only: Annotated[
        str | None,
        typer.Option(
            help="Follow these projections only, comma-separated (default: all). The "
            "trail is the slowest: `--only trail` in one worker and the others in another "
            "let the patients' views catch up at their own pace, on another core."
        ),
    ] = None,
) -> None:
    """Follow the event log and keep projections current, until SIGTERM or Ctrl-C."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        # finish the batch in flight (it commits with its position), then leave
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with opened() as coffre:
            if coffre.settings.run_projections_in_process:
                err().print("note: the API also runs projections in process with these settings")
            runner = coffre.runner if only is None else _selected(coffre.runner, only)
            err().print(f"following the event log: {', '.join(runner.projections)}")
            runner.run(stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    err().print("stopped")


def _selected(runner: ProjectionRunner, only: str) -> ProjectionRunner:
    """The runner of the projections ``--only`` names, or a clear refusal."""
    names = list(dict.fromkeys(name.strip() for name in only.split(",") if name.strip()))
    known = ", ".join(runner.projections)
    if not names:
        fail(f"--only names no projection; known: {known}")
    unknown = [name for name in names if name not in runner.projections]
    if unknown:
        fail(f"unknown projection(s) {', '.join(map(repr, unknown))}; known: {known}")
    return runner.select(names)


@projections_app.command("rebuild")
def projections_rebuild(
    name: Annotated[str, typer.Argument(help="The projection, e.g. access_log.")],
) -> None:
    """Empty a projection's tables and replay the whole event log into them.

    Stop the workers that run this projection (and the API in embedded mode) first.
    """
    with opened() as coffre:
        runner = coffre.runner
        if name not in runner.projections:
            fail(f"unknown projection {name!r}; known: {', '.join(runner.projections)}")
        columns = (TextColumn("rebuilding {task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=err(), transient=True) as bar:
            task = bar.add_task(name, total=runner.source.last_id())
            # observe the runner's reads rather than re-implement rebuild: each batch read
            # tells how far along the log the replay is
            runner.source = _Observed(runner.source, lambda last: bar.update(task, completed=last))
            count = runner.rebuild(name)
    out().print(f"{name}: {count} events replayed")


@projections_app.command("lag")
def projections_lag() -> None:
    """How many events each projection is behind the head of the log.

    Exits with status 1 when a projection stalled at an event it could not apply, so
    that monitoring alerts on it; ``coffre projections retry NAME`` resumes it.
    """
    with opened() as coffre:
        lags = coffre.runner.lag()
        stalls = coffre.runner.stalls()
    table = Table("projection", "events behind", "stalled")
    for name, behind in lags.items():
        stall = stalls.get(name)
        where = f"at event {stall.notification_id}: {stall.error}" if stall else ""
        table.add_row(name, str(behind), where)
    out().print(table)
    if stalls:
        fail(f"stalled projection(s): {', '.join(sorted(stalls))}")


@projections_app.command("retry")
def projections_retry(
    name: Annotated[str, typer.Argument(help="The stalled projection, e.g. notifications.")],
) -> None:
    """Let a stalled projection try its event again (after the code that failed is fixed)."""
    with opened() as coffre:
        if name not in coffre.runner.projections:
            fail(f"unknown projection {name!r}; known: {', '.join(coffre.runner.projections)}")
        retried = coffre.runner.retry(name)
    out().print(f"{name}: {'resumes' if retried else 'was not stalled'}")


class _Observed:
    """An event source that reports the last notification id of each batch it serves."""

    def __init__(self, source: EventSource, seen: Callable[[int], None]) -> None:
        self._source, self._seen = source, seen

    def read(self, start: int, limit: int) -> list[tuple[int, Event]]:
        """Delegate, then report how far the batch reached."""
        batch = self._source.read(start, limit)
        if batch:
            self._seen(batch[-1][0])
        return batch

    def last_id(self) -> int:
        """Delegate."""
        return self._source.last_id()

    def stored_check(self, item: tuple[int, Event]) -> tuple[str, dict[str, Any]] | None:
        """Delegate."""
        return self._source.stored_check(item)
