"""Recordings of `tunemock proxy --record`: read back, and answered again by
`tunemock serve --replay FILE` (the recorded exchanges in order, the mock for the rest)."""

from mock_server.replay.book import Recorded, ReplayBook
from mock_server.replay.recording import read_recording

__all__ = ["Recorded", "ReplayBook", "read_recording"]
