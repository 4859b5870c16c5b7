"""Processes that end with the process that started them: a sweep driver (experiments/prior_study.py, a
campaign) or a launcher killed by ``kill`` or SIGKILL must not leave its training jobs running unseen. Linux only
(``/proc``, ``prctl``), as the rest of the suite's process handling (``fcntl`` locks); elsewhere the helpers do
nothing."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
LINUX = sys.platform.startswith("linux")


def _stat_fields(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` after the command name (which may hold spaces): field 4 (ppid) is index 1."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def process_identity(pid: int) -> tuple[int, int] | None:
    """(pid, start time in clock ticks since boot): names one process even after its PID is reused; None when no
    process has this PID (or outside Linux)."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] == "Z":  # a zombie has ended: only its parent has not reaped it yet
        return None
    return pid, int(fields[19])


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children...), read from ``/proc``."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(int(stat.parent.name))
        if fields is not None:
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _prctl():
    if not LINUX:
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def attached_child(signum: int = signal.SIGTERM) -> Callable[[], None]:
    """A ``preexec_fn`` for a child that must not outlive this process: the kernel sends it ``signum`` when this
    process dies, even by SIGKILL (``PR_SET_PDEATHSIG``), and it runs in its own process group, so that a terminal's
    Ctrl-C reaches it once, through ``run_attached``, not twice (a second Ctrl-C means "stop now")."""
    parent, prctl = os.getpid(), _prctl()  # looked up here: the child between fork and exec only calls them

    def preexec() -> None:
        os.setpgid(0, 0)
        _signal_on_parent_death(prctl, parent, signum)

    return preexec


def end_with(parent: int, signum: int = signal.SIGTERM) -> None:
    """Called in a worker process of a pool (its ``initializer``): the kernel sends it ``signum`` when ``parent``,
    the process that started the pool, dies, even by SIGKILL, so that no worker goes on evaluating for nobody."""
    _signal_on_parent_death(_prctl(), parent, signum)


def _signal_on_parent_death(prctl, parent: int, signum: int) -> None:
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect: its signal will never come
        os.kill(os.getpid(), signum)


class Stopped(Exception):
    """``run_attached`` passed a stop signal on to its child and the child has ended."""

    def __init__(self, signum: int, returncode: int):
        self.signum, self.returncode = signum, returncode
        super().__init__(f"stopped on {signal.Signals(signum).name} (the command ended with status {returncode})")


def run_attached(cmd: Sequence[str], **popen_kwargs) -> int:
    """Run ``cmd`` to its end as a part of this process, and return its exit status. SIGTERM, SIGHUP and SIGINT
    sent here are passed on (SIGINT as itself, so a second Ctrl-C still stops at once; the others as SIGTERM, which
    a run answers by saving at the end of its update) and the child is waited for; then ``Stopped`` is raised. If
    this process is killed outright, the kernel sends the child SIGTERM (``attached_child``)."""
    proc = subprocess.Popen(list(cmd), preexec_fn=attached_child(), **popen_kwargs)
    received: list[int] = []

    def forward(signum, frame) -> None:
        received.append(signum)
        proc.send_signal(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        returncode = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        raise Stopped(received[0], returncode)
    return returncode


def watch_process(identity: tuple[int, int], on_exit: Callable[[], None], every_s: float = 1.0) -> threading.Thread:
    """Call ``on_exit`` (once, from a daemon thread) when the process ``identity`` (``process_identity``) has
    ended, whatever ended it."""

    def watch() -> None:
        while process_identity(identity[0]) == identity:
            time.sleep(every_s)
        on_exit()

    thread = threading.Thread(target=watch, name=f"watch-{identity[0]}", daemon=True)
    thread.start()
    return thread


# --- a queue of children within a time budget: the loop under both campaign modes (experiments/campaign.py) ---------
def supervise(
    todo: list,
    start: Callable[[object], subprocess.Popen],
    ended: Callable[[object, subprocess.Popen, bool], None],
    parallel: int,
    deadline: float,
    grace_s: float,
    min_start_s: float,
    name: Callable[[object], Hashable] = str,
    tick: Callable[[], None] = lambda: None,
    every_s: float = 0.5,
    what: str = "process(es)",
) -> None:
    """Start ``start(item)`` for the items of ``todo`` (popped in order) while fewer than ``parallel`` run and more
    than ``min_start_s`` is left before ``deadline``, and call ``ended(item, process, stopped)`` as each ends. Past
    the deadline, or on SIGTERM, SIGHUP or Ctrl-C, every child gets SIGTERM (a run saves at the end of its update)
    and, ``grace_s`` later, SIGKILL (it resumes from its last checkpoint); ``tick`` after every pass."""
    begin = time.monotonic()
    stop: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: stop.append(signum)) for sig in STOP_SIGNALS}
    running: dict[Hashable, tuple[object, subprocess.Popen]] = {}
    stop_by = None  # set when the children are told to stop: past it, they are killed
    try:
        while running or (todo and stop_by is None):
            left = deadline - time.monotonic()
            if stop_by is None and (stop or left <= 0):
                why = signal.Signals(stop[0]).name if stop else "the budget"
                print(f"{clock(begin)} stopping {len(running)} {what} on {why}", flush=True)
                for _, proc in running.values():
                    proc.send_signal(signal.SIGTERM)
                stop_by = time.monotonic() + grace_s
            while stop_by is None and todo and len(running) < parallel and left > min_start_s:
                item = todo.pop(0)
                running[name(item)] = (item, start(item))
            if not running and left <= min_start_s:
                break  # too little time to start another: it waits for the next call
            for key, (item, proc) in list(running.items()):
                if stop_by is not None and time.monotonic() > stop_by and proc.poll() is None:
                    proc.kill()
                if proc.poll() is None:
                    continue
                del running[key]
                ended(item, proc, stop_by is not None)
            tick()
            time.sleep(every_s)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def clock(begin: float) -> str:
    return f"[{time.monotonic() - begin:6.0f}s]"
