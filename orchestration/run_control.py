"""What keeps CLI runs on one Dagster instance from blocking or hiding from each other: runs carry their
process identity as tags; a run whose process is gone (kill -9, OOM) is marked failed and its pool slots
freed before the next one starts, or as soon as a waiting run notices it; a wait for a pool is announced
with its holder; Ctrl-C / SIGTERM stop a waiting run at once; a failed run is summed up in one line."""
from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from collections.abc import Callable

import dagster as dg
from dagster._core.storage.dagster_run import FINISHED_STATUSES, DagsterRunStatus, RunsFilter
from dagster._utils.interrupts import check_captured_interrupt
from dagster._utils.log import create_console_logger

from orchestration.cli.session import UNREACHABLE
from refinery.run_lock import Owner, RunLock, alive

log = logging.getLogger("refinery.cli")

PID, HOST, STARTED = "refinery/pid", "refinery/host", "refinery/process_start"
_UNFINISHED = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.QUEUED, DagsterRunStatus.STARTING,
               DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]


def run_tags(owner: Owner) -> dict[str, str]:
    return {PID: str(owner.pid), HOST: owner.host, STARTED: owner.started}


def _process_gone(run: dg.DagsterRun) -> bool:
    tags = run.tags
    return PID in tags and alive(int(tags[PID]), tags.get(HOST, ""), tags.get(STARTED, "")) is False


def _holder(instance: dg.DagsterInstance, run_id: str) -> str:
    run = instance.get_run_by_id(run_id)
    if run is None:
        return f"run {run_id[:8]} (deleted)"
    where = f", pid {run.tags[PID]} on {run.tags.get(HOST, '?')}" if PID in run.tags else " (started from the UI)"
    return f"run {run_id[:8]} ({run.job_name}, {run.status.value}{where})"


def _mark_failed(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    instance.report_run_failed(run, message=f"Its process (pid {run.tags[PID]} on {run.tags.get(HOST)}) is gone "
                                            "(killed or out of memory); marked failed by the next refinery run.")
    instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    log.warning("run %s (%s) was left %s by a process that is gone (pid %s): marked failed, its pool slots "
                "freed", run.run_id[:8], run.job_name, run.status.value, run.tags[PID])


def reap_dead_runs(instance: dg.DagsterInstance) -> None:
    """Runs of this host whose process is gone are failed; slots of finished or deleted runs are freed.
    Runs of other hosts are left alone: whether their process lives cannot be told from here."""
    for run in instance.get_runs(filters=RunsFilter(statuses=_UNFINISHED, tags={HOST: socket.gethostname()})):
        if _process_gone(run):
            _mark_failed(instance, run)
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    holders = {s.run_id for info in storage.get_concurrency_infos(list(storage.get_concurrency_keys())).values()
               for s in info.claimed_slots} | storage.get_concurrency_run_ids()
    for run_id in holders:
        run = instance.get_run_by_id(run_id)
        if run is None or run.status in FINISHED_STATUSES:
            storage.free_concurrency_slots_for_run(run_id)
            log.info("freed the pool slots still held by %s run %s", run.status.value if run else "deleted",
                     run_id[:8])


class RunWatch:
    """A thread beside one in-process run: announces (once per holder) that the run waits for a pool, fails
    holders whose process is gone, and turns a Ctrl-C/SIGTERM that Dagster holds back while the run waits
    between steps into an immediate stop."""

    POLL = 1.0
    # polls between two looks at the pools: each look is a few queries on a fresh connection (~35 ms on
    # SQLite, ~1.3 CPU-s over a 40 s corpus run when done every poll); an interrupt is still seen each second
    POOLS_EVERY = 5

    def __init__(self, instance: dg.DagsterInstance, run_id: str, on_stop: Callable[[], None]):
        self.instance, self.run_id, self.on_stop = instance, run_id, on_stop
        self._announced: set[tuple[str, str]] = set()
        self._interrupt_seen = 0
        self._done = threading.Event()

    def __enter__(self) -> RunWatch:
        self._thread = threading.Thread(target=self._loop, name="refinery-run-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        polls = 0
        while not self._done.wait(self.POLL):
            polls += 1
            try:
                self._check_interrupt()
                if polls % self.POOLS_EVERY == 1:  # the first look after one second: a wait is told at once
                    self._check_pools()
            except Exception as e:  # noqa: BLE001 - the watch must never take the run down
                log.debug("run watch: %s", e)

    def _check_interrupt(self) -> None:
        # Dagster raises a captured interrupt only when the next step starts; a run waiting for a pool
        # never gets there, so after two polls with the interrupt still pending the watch stops it
        self._interrupt_seen = self._interrupt_seen + 1 if check_captured_interrupt() else 0
        if self._interrupt_seen < 2:
            return
        run = self.instance.get_run_by_id(self.run_id)
        if run is not None and run.status not in FINISHED_STATUSES:
            self.instance.report_run_canceled(run, message="Stopped by Ctrl-C/SIGTERM while waiting between steps.")
        self.instance.event_log_storage.free_concurrency_slots_for_run(self.run_id)
        log.warning("interrupted: run %s stopped, its pool claims freed", self.run_id[:8])
        self.on_stop()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)  # no step of this run is executing (it is waiting), so nothing is left half-done

    def _check_pools(self) -> None:
        storage = self.instance.event_log_storage
        infos = storage.get_concurrency_infos(list(storage.get_concurrency_keys()))
        for pool, info in infos.items():
            if not any(p.run_id == self.run_id and p.assigned_timestamp is None for p in info.pending_steps):
                continue
            for slot in info.claimed_slots:
                if slot.run_id == self.run_id:
                    continue
                holder = self.instance.get_run_by_id(slot.run_id)
                if holder is not None and holder.status not in FINISHED_STATUSES and _process_gone(holder):
                    _mark_failed(self.instance, holder)
                elif holder is None or holder.status in FINISHED_STATUSES:
                    storage.free_concurrency_slots_for_run(slot.run_id)
                elif (pool, slot.run_id) not in self._announced:
                    self._announced.add((pool, slot.run_id))
                    log.info("waiting for pool %r (limit %s): held by %s, step %s; Ctrl-C stops this run",
                             pool, info.limit, _holder(self.instance, slot.run_id), slot.step_key)


# --- one-line failures ------------------------------------------------------------------------------

def failure_line(result, root: str = "", endpoint: str | None = None) -> str:
    """The first failed step's root cause in one line (the full traceback is in the UI and with --verbose)."""
    failures = result.get_step_failure_events()
    event = failures[0] if failures else next(
        (e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE), None)
    error = getattr(getattr(event, "event_specific_data", None), "error", None)
    if error is None:
        return getattr(event, "message", None) or "the run failed (no error recorded; see the UI)"
    chain = [error]
    while chain[-1].cause is not None or chain[-1].context is not None:
        chain.append(chain[-1].cause or chain[-1].context)
    cause = chain[-1]
    message = " ".join((cause.message or "").split())
    # format_exception_only's "package.module.Cls: text" -> "Cls: text"
    message = f"{cause.cls_name}: {message.split(f'{cause.cls_name}: ', 1)[-1]}" if message else str(cause.cls_name)
    step = f"step {event.step_key}: " if getattr(event, "step_key", None) else ""
    if any(e.cls_name in UNREACHABLE for e in chain):
        return f"{step}storage {root} unreachable{f' at {endpoint}' if endpoint else ''}: {message[:300]}"
    return f"{step}{message[:400]}"


def interrupted(result) -> bool:
    names = {"DagsterExecutionInterruptedError", "KeyboardInterrupt"}
    for event in result.get_step_failure_events():
        error = event.event_specific_data.error
        while error is not None:
            if error.cls_name in names:
                return True
            error = error.cause or error.context
    return False


# --- console logger ---------------------------------------------------------------------------------

class _FirstLineOfErrors(logging.Filter):
    """Without --verbose an error event shows its first line; the traceback stays in the UI's event log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and isinstance(record.msg, str) and "\n" in record.msg:
            record.msg = record.msg.split("\n", 1)[0] + "  (traceback: --verbose, or the run in the UI)"
            record.args = ()
        return True


@dg.logger({"log_level": dg.Field(str, is_required=False, default_value="INFO"),
            "tracebacks": dg.Field(bool, is_required=False, default_value=True)},
           description="Dagster's colored console logger; tracebacks: false keeps error events to one line.")
def console_logger(init_context) -> logging.Logger:
    logger = create_console_logger("dagster", init_context.logger_config["log_level"])
    if not init_context.logger_config["tracebacks"]:
        for handler in logger.handlers:
            handler.addFilter(_FirstLineOfErrors())
    return logger


def run_config(verbose: bool) -> dict:
    return {"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "INFO", "tracebacks": verbose}}}}


# --- running a command's jobs -----------------------------------------------------------------------

class Runner:
    """Runs one CLI command's jobs: each tagged with this process, watched, stopped on Ctrl-C/SIGTERM; holds
    the command's storage locks until it ends (or the watch stops it)."""

    def __init__(self, instance: dg.DagsterInstance, command: str, verbose: bool = False):
        self.instance, self.command, self.verbose = instance, command, verbose
        self.locks: list[RunLock] = []
        reap_dead_runs(instance)

    def lock(self, folder_uri: str, endpoint_url: str | None = None, run_id: str | None = None) -> str:
        """Takes `<folder>/_state/run.lock` (LockHeld when another live run has it); returns the run id."""
        owner = Owner(command=self.command, **({"run_id": run_id} if run_id else {}))
        lock = RunLock(folder_uri, owner, endpoint_url)
        lock.acquire()
        self.locks.append(lock)
        return owner.run_id

    def release(self) -> None:
        for lock in reversed(self.locks):
            lock.release()
        self.locks.clear()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __call__(self, job, partition_key: str | None = None, run_id: str | None = None):
        owner = Owner(command=self.command, **({"run_id": run_id} if run_id else {}))
        with RunWatch(self.instance, owner.run_id, self.release):
            result = job.execute_in_process(partition_key=partition_key, instance=self.instance,
                                            raise_on_error=False, run_config=run_config(self.verbose),
                                            run_id=owner.run_id, tags=run_tags(owner))
        if interrupted(result):
            raise KeyboardInterrupt
        return result
