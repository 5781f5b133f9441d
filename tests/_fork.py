"""Reading a forked child's verdict in tests."""

from __future__ import annotations

import os
import select


def child_verdict(pid: int, read_end: int, timeout: float) -> bytes:
    """The byte a forked child wrote to its pipe, or ``b"timeout"`` when none came within
    ``timeout`` seconds (the child is then killed). Closes ``read_end``, reaps the child."""
    ready: list[int] = []
    try:
        ready, _, _ = select.select([read_end], [], [], timeout)
        return os.read(read_end, 1) if ready else b"timeout"
    finally:
        os.close(read_end)
        if not ready:
            os.kill(pid, 9)
        os.waitpid(pid, 0)
