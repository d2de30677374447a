"""Work shared out among forked processes (sitegen.cores.fork_map): the same results, in order, as one process,
and None (the caller does the work itself) when a child fails.

fork_map shares nothing out while other threads run, as they may in a test worker (an earlier test's server), so
each scenario runs in a forked process of its own, where this thread is the only one."""
from __future__ import annotations

import multiprocessing
import os

import pytest

from sitegen import cores

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")


def alone(scenario):
    """What `scenario()` returns, run in a forked process with no other thread."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=lambda: send.send(scenario()))
    child.start()
    send.close()
    result = receive.recv()
    child.join()
    return result


def work(x: int) -> tuple[int, int, bytes]:
    return x, os.getpid(), bytes([x % 256]) * (x % 5000)  # results larger than a pipe's buffer


@pytest.mark.parametrize("count", [0, 1, 7, cores.CHUNK, cores.CHUNK * 3 + 1, 1000])
def test_the_results_are_those_of_one_process_in_order(count):
    items = list(range(count))
    shared = alone(lambda: cores.fork_map(work, items, 3, least=0))
    assert shared is not None
    assert [(x, data) for x, _, data in shared] == [(x, bytes([x % 256]) * (x % 5000)) for x in items]
    if count >= 3:  # really done by other processes, each item once
        assert len({pid for _, pid, _ in shared}) == 3


def test_a_failing_child_leaves_the_work_to_the_caller():
    def scenario():
        parent = os.getpid()

        def failing(x: int) -> int:
            if os.getpid() != parent and x == 251:  # fails in a child only (odd items are its share)
                raise ValueError("a template error")
            return x

        return cores.fork_map(lambda x: x, list(range(300)), 2, least=0), cores.fork_map(failing, list(range(300)), 2, least=0)

    shared, failed = alone(scenario)
    assert shared == list(range(300))  # the same work is shared out when nothing fails
    assert failed is None


def test_a_result_that_cannot_be_sent_leaves_the_work_to_the_caller():
    def scenario():
        parent = os.getpid()
        return cores.fork_map(lambda x: x if os.getpid() == parent else (lambda: x), list(range(300)), 2, least=0)

    assert alone(scenario) is None


def test_small_or_serial_work_is_not_shared_out():
    assert alone(lambda: cores.fork_map(lambda x: x, list(range(10)), 2, least=20)) is None
    assert alone(lambda: cores.fork_map(lambda x: x, list(range(100)), 1, least=0)) is None
