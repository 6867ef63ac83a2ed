"""The in-memory due queue: a heap of (time, key) beside a dict of each key's current time.

Moving a key pushes a new heap entry and leaves the old one behind, skipped when it comes
up (lazy deletion, as the heapq documentation suggests): a move costs O(log n), never a
walk of the heap. Stale entries are dropped as they surface, and the heap is rebuilt when
they outnumber the live ones, so it never grows past twice the queue."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence


class DueHeap:
    """Not thread-safe on its own: its store calls it under the store's lock."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    def schedule(self, entries: Mapping[str, float]) -> None:
        for key, at in entries.items():
            at = float(at)
            if self._at.get(key) == at:
                continue
            self._at[key] = at
            heapq.heappush(self._heap, (at, key))
        self._compact()

    def unschedule(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._at.pop(key, None)
        self._compact()

    def _drop_stale_top(self) -> None:
        while self._heap and self._at.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)

    def _compact(self) -> None:
        if len(self._heap) > 2 * len(self._at) + 64:
            self._heap = [(at, key) for key, at in self._at.items()]
            heapq.heapify(self._heap)

    def next_due(self) -> float | None:
        self._drop_stale_top()
        return self._heap[0][0] if self._heap else None

    def due(self, now: float, limit: int) -> list[str]:
        """The earliest due keys: a walk of the heap's top (heapq.nsmallest would read it
        all), cut at the first entry that is not due."""
        self._drop_stale_top()
        found: list[str] = []
        seen: set[str] = set()
        heap = self._heap
        # the smallest unvisited entry is always a child of a visited one: a second, small
        # heap of those candidates walks the big one in order without popping from it
        frontier = [(heap[0], 0)] if heap else []
        while frontier and len(found) < limit:
            (at, key), i = heapq.heappop(frontier)
            if at > now:
                break
            if self._at.get(key) == at and key not in seen:
                seen.add(key)
                found.append(key)
            for child in (2 * i + 1, 2 * i + 2):
                if child < len(heap):
                    heapq.heappush(frontier, (heap[child], child))
        return found

    def clear(self) -> None:
        self._at.clear()
        self._heap.clear()
