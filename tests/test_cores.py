"""Work shared out among forked processes (sitegen.cores.fork_map): the same results, in order, as one process,
and None (the caller does the work itself) when a child fails.

fork_map shares nothing out while other threads run, as they may in a test worker (an earlier test's server), so
each scenario runs in a forked process of its own, where this thread is the only one."""
from __future__ import annotations

import multiprocessing
import os
import time

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
    time.sleep(0.001)  # long enough for every process to take some
    return x, os.getpid(), bytes([x % 256]) * (x % 5000)  # results larger than a pipe's buffer


@pytest.mark.parametrize("count", [0, 1, 7, cores.STEP, cores.STEP * 3 + 1, 1000, cores.STEP * 3 * 16 + 5])
def test_the_results_are_those_of_one_process_in_order(count):
    items = list(range(count))
    shared = alone(lambda: cores.fork_map(work, items, 3, least=0))
    assert shared is not None
    assert [(x, data) for x, _, data in shared] == [(x, bytes([x % 256]) * (x % 5000)) for x in items]
    if count >= 100:  # really done by other processes
        assert len({pid for _, pid, _ in shared}) == 3


def test_a_process_slowed_down_does_not_keep_the_others_waiting():
    """The items are taken a few at a time: a child slowed down (here: every item takes it ten times as long)
    takes fewer (dealt out in advance, it would have half of them, and the parent would wait for it)."""
    def scenario():
        parent = os.getpid()

        def slow_child(x: int) -> int:
            time.sleep(0.002 if os.getpid() == parent else 0.02)
            return os.getpid()

        return cores.fork_map(slow_child, list(range(300)), 2, least=0), parent

    pids, parent = alone(scenario)
    assert pids is not None
    by_child = sum(pid != parent for pid in pids)
    assert 0 < by_child < 100  # the parent did most: about ten items for each the slow child did


def test_a_failing_child_leaves_the_work_to_the_caller():
    def scenario():
        parent = os.getpid()

        def failing(x: int) -> int:
            time.sleep(0.001)
            if os.getpid() != parent and x >= 150:  # fails in a child only, on an item it takes
                raise ValueError("a template error")
            return x

        return cores.fork_map(lambda x: x, list(range(300)), 2, least=0), cores.fork_map(failing, list(range(300)), 2, least=0)

    shared, failed = alone(scenario)
    assert shared == list(range(300))  # the same work is shared out when nothing fails
    assert failed is None


def test_a_result_that_cannot_be_sent_leaves_the_work_to_the_caller():
    def scenario():
        parent = os.getpid()
        def unsendable_in_a_child(x: int):
            time.sleep(0.001)
            return x if os.getpid() == parent else (lambda: x)

        return cores.fork_map(unsendable_in_a_child, list(range(300)), 2, least=0)

    assert alone(scenario) is None


def test_small_or_serial_work_is_not_shared_out():
    assert alone(lambda: cores.fork_map(lambda x: x, list(range(10)), 2, least=20)) is None
    assert alone(lambda: cores.fork_map(lambda x: x, list(range(100)), 1, least=0)) is None


def test_an_error_in_this_process_stops_the_children_and_is_raised():
    def scenario():
        parent = os.getpid()

        def failing_here(x: int) -> int:
            time.sleep(0.001)
            if os.getpid() == parent and x >= 100:
                raise ValueError("a template error")
            return x

        try:
            cores.fork_map(failing_here, list(range(300)), 3, least=0)
        except ValueError as exc:
            return str(exc), len(multiprocessing.active_children())
        return None

    assert alone(scenario) == ("a template error", 0)


def test_work_begun_in_a_child_is_ended_there_with_the_word_sent(tmp_path):
    out = tmp_path / "ended.txt"

    def scenario():
        def end(prepared: tuple[int, int], word: str) -> None:
            out.write_text(f"{prepared[0]} {prepared[1] != os.getpid()} {word}")

        finish = cores.begun_in_child(lambda: (41 + 1, os.getpid()), end)
        assert finish is not None
        written_before = out.exists()  # the child waits for the word
        return written_before, finish("published"), len(multiprocessing.active_children())

    assert alone(scenario) == (False, True, 0)
    assert out.read_text() == "42 False published"  # prepared in the child, ended there


def test_a_child_told_its_word_ends_the_work_while_this_process_goes_on(tmp_path):
    """`Begun.tell` sends the word and returns at once: the child ends its work while this process does something
    else (the build removes the previous one); the call then only waits, and a second word is not sent."""
    out = tmp_path / "ended.txt"

    def scenario():
        def end(prepared: int, word: str) -> None:
            out.write_text(f"{prepared} {word}")

        begun = cores.begun_in_child(lambda: 7, end)
        assert begun is not None
        begun.tell("first")
        deadline = time.monotonic() + 30
        while not out.exists() and time.monotonic() < deadline:  # written by the child before the call
            time.sleep(0.01)
        ended_before_the_call = out.exists()
        return ended_before_the_call, begun("second"), len(multiprocessing.active_children())

    assert alone(scenario) == (True, True, 0)
    assert out.read_text() == "7 first"


def test_work_that_fails_in_the_child_is_left_to_the_caller(capfd):
    def scenario():
        def prepare() -> None:
            raise ValueError("cannot be prepared")

        finish = cores.begun_in_child(prepare, lambda prepared, word: None)
        return finish is not None and finish("word")

    assert alone(scenario) is False
    assert "Traceback" not in capfd.readouterr().err  # the caller does the work, and reports what fails


def test_work_done_in_a_child_ends_it_at_once(tmp_path):
    out = tmp_path / "done.txt"

    def scenario():
        wait = cores.in_child(lambda: out.write_text(str(os.getpid())))
        assert wait is not None
        deadline = time.monotonic() + 30
        while multiprocessing.active_children() and time.monotonic() < deadline:  # ended before it was waited for
            time.sleep(0.01)
        ended = not multiprocessing.active_children()
        failing = cores.in_child(lambda: 1 / 0)
        return ended, wait(), failing is not None and failing()

    assert alone(scenario) == (True, True, False)
    assert out.read_text() != str(os.getpid())  # written by the child
