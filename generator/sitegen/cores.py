"""How many processes or browsers to spread work over (one per core this process may use, at most 4), and
work shared out among forked processes."""
from __future__ import annotations

import multiprocessing
import os
import threading
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 4
CHUNK = 100  # results sent back per message: one message of all of them (40 MB of pages at 10,000) was read whole
# into memory before it was unpickled, and that copy set the build's peak


def workers(setting: str) -> int:
    """One per usable core, at most MAX_WORKERS; the environment variable `setting` (a positive number)
    overrides, and 1 does the work serially."""
    value = os.environ.get(setting, "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))


def fork_map(function: Callable[[T], R], items: Sequence[T], processes: int, least: int = 200) -> list[R] | None:
    """`[function(x) for x in items]`, shared out among forked processes (they inherit everything loaded, so only
    the results travel back), in order; None when it is not worth it or not safe — fewer than `least` items, one
    process, other threads running (a lock one of them holds could stay locked in a child), no fork on this
    system — or when a child fails: the caller then does the work itself, so an error is raised as in one process."""
    if (processes < 2 or len(items) < least or threading.active_count() > 1
            or "fork" not in multiprocessing.get_all_start_methods()):
        return None
    ctx = multiprocessing.get_context("fork")
    shares = [list(items[k::processes]) for k in range(processes)]
    children = []
    for share in shares[1:]:
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_share, args=(send, function, share), daemon=True)
        child.start()
        send.close()
        children.append((child, receive))
    try:
        done: list[list | None] = [[function(x) for x in shares[0]]]
    except BaseException:
        for child, receive in children:  # they would wait for this process to read their results
            child.kill()
            child.join()
            receive.close()
        raise
    for (child, receive), share in zip(children, shares[1:]):
        data = _receive(receive, len(share))
        child.join()
        receive.close()
        done.append(data)
    out: list = [None] * len(items)
    for k, part in enumerate(done):
        if part is None:
            return None
        out[k::processes] = part
    return out


def _receive(receive, count: int) -> list | None:
    """A child's results, `CHUNK` at a time; None when it failed or sent something else."""
    out: list = []
    try:
        while len(out) < count:
            part = receive.recv()
            if not isinstance(part, list) or not part:
                return None
            out.extend(part)
    except (EOFError, OSError):
        return None
    return out if len(out) == count else None


def _share(send, function, share) -> None:
    """In a forked child: the share's results in lists of `CHUNK`, or None when one fails (the parent then does
    the work)."""
    try:
        result: list | None = [function(x) for x in share]
    except BaseException:
        result = None
    try:
        if result is None:
            send.send(None)
        else:
            for start in range(0, len(result), CHUNK):
                send.send(result[start:start + CHUNK])
    except Exception:  # a result that cannot be pickled: the parent does the work
        send.send(None)
    finally:
        send.close()
