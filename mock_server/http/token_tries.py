"""Wrong admin tokens, counted per client address: after a few, every try from that address
(the dashboard's login form, a token header) answers 429 for a while, the right token too,
or the answers would still tell a guess that hit from one that missed.

A web page can post the login form cross-site without asking, and a short token is guessed
in minutes at the speed of a local loop; this turns that into years. A page's guesses come
from the developer's own address, so they lock the developer out too, for seconds (the
answer says how long). Written by hand: a token bucket per address in a bounded dict is
shorter than any library's setup for it."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

#: wrong tokens an address may send at once, and how fast it earns one more try
BURST = 10
REFILL_SECONDS = 6.0
#: addresses remembered (the oldest forgotten first: any number of addresses costs no more)
REMEMBERED = 1024


class TokenTries:
    def __init__(
        self,
        burst: int = BURST,
        refill_seconds: float = REFILL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst = float(burst)
        self._refill = refill_seconds
        self._clock = clock
        self._left: dict[str, tuple[float, float]] = {}  # address -> (tries left, at)
        self._lock = threading.Lock()

    def _now_left(self, address: str, now: float) -> float:
        left, at = self._left.get(address, (self._burst, now))
        return min(self._burst, left + (now - at) / self._refill)

    def wait(self, address: str) -> int:
        """Seconds before `address` may try a token again (0: now)."""
        with self._lock:
            left = self._now_left(address, self._clock())
        return 0 if left >= 1 else max(1, math.ceil((1 - left) * self._refill))

    def failed(self, address: str) -> None:
        """`address` sent a wrong token: one try fewer."""
        now = self._clock()
        with self._lock:
            left = self._now_left(address, now) - 1
            self._left.pop(address, None)  # re-inserted last: the dict's order is by use
            if len(self._left) >= REMEMBERED:
                self._left.pop(next(iter(self._left)))
            self._left[address] = (max(left, 0.0), now)
