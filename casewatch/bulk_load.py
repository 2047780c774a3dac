"""Garbage-collector handling for bulk loads and bulk writes.

The board creates tens of thousands of long-lived objects at once (cases, clock plans, cells).
Python's cyclic collector would rescan them repeatedly while they are created, for nothing:
they all stay alive. So the collector pauses during a bulk load. After the initial load, what
survives is frozen out of future scans (only then: freezing after every filter change would
pin each discarded generation of rows in the permanent generation). Reference counting still
frees everything that is dropped later. A write batch (seeding, imports) pauses it the same way:
its objects all live until the batch commits.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk_allocation(*, freeze: bool) -> Iterator[None]:
    """Pause the cyclic collector; with `freeze`, move what survives out of future scans."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        if freeze:
            gc.freeze()
