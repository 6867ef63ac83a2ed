"""What a serving process does to the garbage collector once its app is built (asgi.py)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc
from mock_server.asgi import freeze_startup_heap
before = gc.get_threshold()
freeze_startup_heap()
after = gc.get_threshold()
print(before[0], after[0], after[1:] == before[1:], gc.get_freeze_count() > 0)
"""


def test_a_serving_process_freezes_its_start_up_and_collects_young_objects_less_often() -> None:
    # in a process of its own: frozen objects are never freed, and the thresholds are global
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["700", "10000", "True", "True"]
