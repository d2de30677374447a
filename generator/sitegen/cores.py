"""How many processes or browsers to spread work over (one per core this process may use, at most 4), and
work shared out among forked processes."""
from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import threading
from typing import Any, Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 4
STEP = 64  # the most items a process takes at a time: the processes end within one step of each other


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
    system — or when a child fails: the caller then does the work itself, so an error is raised as in one process.

    The items are not dealt out in advance: each process takes the next few (`_turns`) until none are left, so
    that a process slowed by the machine or given the costly items does not keep the others waiting (dealt out in
    advance, the child rendering half of a 10,000-page site ended 0.4 s after this process, every time). A child
    sends its results as it goes, and this process takes them between its own turns: 40 MB of pages sent at the
    end kept it waiting another 0.2 s."""
    if processes < 2 or len(items) < least or not _can_fork():
        return None
    ctx = multiprocessing.get_context("fork")
    step = max(1, min(STEP, len(items) // (processes * 16)))
    taken = ctx.Value("q", 0)  # the first item no process has taken yet
    children = []
    for _ in range(processes - 1):
        receive, send = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_share, args=(send, function, items, taken, step), daemon=True)
        process.start()
        send.close()
        children.append(_Child(process, receive))
    out: list = [_NOT_DONE] * len(items)
    try:
        for start, end in _turns(taken, step, len(items)):
            out[start:end] = [function(x) for x in items[start:end]]
            for child in children:
                child.take(out, wait=False)
        for child in children:
            child.take(out, wait=True)
    finally:
        for child in children:
            child.end()
    if not all(child.sent for child in children) or any(result is _NOT_DONE for result in out):
        return None
    return out


def _can_fork() -> bool:
    """Whether a child can be forked safely: no other thread runs (a lock one of them holds could stay locked in
    the child), and the system forks."""
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


_NOT_DONE = object()
DONE = "done"  # a child's last message


def _turns(taken: Any, step: int, count: int) -> Iterator[tuple[int, int]]:
    """The items this process takes, `step` at a time, as (start, end), until no item is left."""
    while True:
        with taken.get_lock():
            start = taken.value
            taken.value = start + step
        if start >= count:
            return
        yield start, min(start + step, count)


class _Child:
    """A forked child as this process sees it: `sent` is None while it is still sending, then True when it sent
    all its results, False when it failed or sent something else."""

    def __init__(self, process: Any, receive: Any) -> None:
        self.process = process
        self.receive = receive
        self.sent: bool | None = None

    def take(self, out: list, wait: bool) -> None:
        """Put the results it sent in their places in `out`: those already here, or (`wait`) all of them."""
        try:
            while self.sent is None and (wait or self.receive.poll()):
                part = self.receive.recv()
                if part == DONE:
                    self.sent = True
                elif (isinstance(part, tuple) and len(part) == 2 and type(part[0]) is int and type(part[1]) is list
                        and 0 <= part[0] and part[0] + len(part[1]) <= len(out)):
                    out[part[0]:part[0] + len(part[1])] = part[1]
                else:
                    self.sent = False
        except (EOFError, OSError):
            self.sent = False

    def end(self) -> None:
        if not self.sent:  # failed, or this process failed: its results are not read (it could wait to send them)
            self.process.kill()
        self.process.join()
        self.receive.close()


def _share(send: Any, function: Callable, items: Sequence, taken: Any, step: int) -> None:
    """In a forked child: takes items until none are left; a thread sends the results of each turn as
    (start, results) while the next is worked out, then DONE — or None when one fails or cannot be sent (the
    parent then does the work)."""
    outbox: queue.SimpleQueue = queue.SimpleQueue()
    failed = threading.Event()
    sender = threading.Thread(target=_send, args=(send, outbox, failed))
    sender.start()
    try:
        for start, end in _turns(taken, step, len(items)):
            if failed.is_set():
                break
            outbox.put((start, [function(x) for x in items[start:end]]))
        outbox.put(DONE)
    except BaseException:
        outbox.put(None)
    sender.join()
    send.close()


def _send(send: Any, outbox: queue.SimpleQueue, failed: threading.Event) -> None:
    while True:
        part = outbox.get()
        try:
            send.send(part)
        except Exception:  # a result that cannot be pickled
            failed.set()
            send.send(None)
            return
        if part is None or part == DONE:
            return


def begun_in_child(prepare: Callable[[], T], end: Callable[[T, Any], None]) -> Begun | None:
    """`prepare()` begun now in a forked child, which ends the work with `end(prepared, word)` once this process
    sends it a word (`Begun`). None when no child can be forked safely (other threads running, no fork on this
    system): the caller then does the work itself. A child whose parent goes away without a word ends doing
    nothing."""
    if not _can_fork():
        return None
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_begun, args=(receive, send, prepare, end), daemon=True)
    process.start()
    receive.close()
    return Begun(process, send)


class Begun:
    """Work begun in a child (`begun_in_child`): `tell` sends the word it waits for, and lets this process go on;
    the call sends the word (unless told before: the first word is the one), waits for the child and says whether
    it ended well."""

    def __init__(self, process: Any, send: Any) -> None:
        self.process = process
        self.send: Any = send

    def tell(self, word: Any) -> None:
        if self.send is None:
            return
        try:
            self.send.send(word)
        except OSError:  # the child is gone
            pass
        self.send.close()
        self.send = None

    def __call__(self, word: Any) -> bool:
        self.tell(word)
        self.process.join()
        return self.process.exitcode == 0


def _begun(receive: Any, send: Any, prepare: Callable, end: Callable) -> None:
    send.close()  # this process's copy: the parent's is then the only one, and its end is this one's EOFError
    try:
        prepared = prepare()
        word = receive.recv()
        end(prepared, word)
    except EOFError:  # the parent went away without a word
        return
    except BaseException:  # noqa: BLE001 - the parent does the work (no traceback printed from here)
        sys.exit(1)


def in_child(work: Callable[[], None]) -> Callable[[], bool] | None:
    """`work()` done by a forked child, which ends as soon as it is done (it lets go of its copy of this process's
    memory); the function returned waits for it and says whether it ended well. None when no child can be forked
    safely: the caller then does the work itself."""
    if not _can_fork():
        return None
    process = multiprocessing.get_context("fork").Process(target=_done_in_child, args=(work,), daemon=True)
    process.start()

    def wait() -> bool:
        process.join()
        return process.exitcode == 0

    return wait


def _done_in_child(work: Callable[[], None]) -> None:
    try:
        work()
    except BaseException:  # noqa: BLE001 - the caller is told it did not end well (no traceback from here)
        sys.exit(1)

