"""Run one call in a child process under a memory and a time limit, so that a file that would cost
gigabytes to parse (ast.parse takes ~400x the size of a module of one-line statements) is skipped
with a reason instead of taking the scan, or the machine, down with it."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from typing import Any


class LimitExceeded(Exception):
    """The call needed more memory or time than allowed, or its process died. One line, for people."""


def run_limited(
    fn: Callable[..., Any],
    args: tuple,
    *,
    memory: int,
    seconds: float,
    context: Any,
    is_cancelled: Callable[[], bool] | None = None,
) -> Any:
    """fn(*args) in a child process of `context` that may grow by `memory` bytes of address space
    and run `seconds`. Returns what it returns; raises LimitExceeded otherwise (or on cancel)."""
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, memory, fn, args), daemon=True, name="dbreview-limited")
    try:
        child.start()
    except (OSError, EOFError) as exc:  # no process to be had (a dead fork server, no memory, no pids)
        receive.close()
        raise LimitExceeded(f"could not be parsed apart ({type(exc).__name__}: {exc})") from None
    finally:
        send.close()
    deadline = time.monotonic() + seconds
    try:
        while not receive.poll(0.1):
            if is_cancelled is not None and is_cancelled():
                raise LimitExceeded("cancelled")
            if time.monotonic() > deadline:
                raise LimitExceeded(f"takes over {seconds:.0f} s to parse")
        try:
            ok, value = receive.recv()
        except EOFError:
            child.join(1)
            raise LimitExceeded(f"crashed its parser ({_how(child.exitcode)})") from None
        if not ok:
            raise LimitExceeded(value)
        return value
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()


def _child(send: Any, memory: int, fn: Callable[..., Any], args: tuple) -> None:
    _limit_address_space(memory)
    try:
        result = (True, fn(*args))
    except MemoryError:
        result = (False, f"needs more than {memory // (1024 * 1024)} MB to parse")
    send.send(result)
    send.close()


def _limit_address_space(memory: int) -> None:
    """This process may grow by `memory` bytes from its present size (Linux: /proc/self/statm)."""
    try:
        with open("/proc/self/statm") as fh:
            size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return  # elsewhere the time limit still holds
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = size + memory
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"signal {-exitcode}"
    return f"exit status {exitcode}"

