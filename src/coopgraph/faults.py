"""Fault injection for tests: make a write fail, or stall, at a named point.

``COOPGRAPH_FAULT=<point>`` makes :func:`point` raise :class:`InjectedFault` when the program
reaches ``<point>``; ``COOPGRAPH_FAULT=<point>:sleep`` makes it sleep there (up to a minute) so a
test can kill the process midway. Unset, it does nothing. Points (README "Testing"):

* ``write_all:staged``: export.write_all or write_all_chunks has staged its first temporary file, before the others;
* ``release:staged``: every file of a release is in its temporary folder, before the changelog
  and the rename;
* ``ingest:validated``: an ingest has checked its new items, before it writes.
"""

from __future__ import annotations

import os
import time

from .errors import CoopgraphError

FAULT_ENV = "COOPGRAPH_FAULT"


class InjectedFault(CoopgraphError):
    """Raised at a fault point named by $COOPGRAPH_FAULT (tests only)."""


def point(name: str) -> None:
    """Raise, or stall, here when $COOPGRAPH_FAULT names this point; otherwise do nothing."""
    wanted = os.environ.get(FAULT_ENV, "")
    if not wanted:
        return
    target, sleep = (wanted[:-len(":sleep")], True) if wanted.endswith(":sleep") else (wanted, False)
    if target != name:
        return
    if sleep:
        time.sleep(60)
        return
    raise InjectedFault(f"fault injected at {name} (${FAULT_ENV})")
