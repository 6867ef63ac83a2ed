"""Hostile peers on 127.0.0.1 for the security tests (a receiver answering a huge body, a
static file host, a dataset host that dribbles) and a sampler of a process's memory."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.fixtures.threaded import serving

_CHUNK = b"x" * 65536


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def huge_answer(size: int) -> type[BaseHTTPRequestHandler]:
    """Answers every POST with 200 and `size` bytes, streamed from a loop (nothing of that
    size exists in the test's memory), until the caller hangs up."""

    class Huge(_Quiet):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-length", str(size))
            self.end_headers()
            try:
                for _ in range(size // len(_CHUNK)):
                    self.wfile.write(_CHUNK)
            except OSError:  # the mock hung up: what the test wants
                self.close_connection = True

    return Huge


def static_files(folder: Path) -> Any:
    """HEAD and GET of the files in `folder`, with Content-Length (the docs' demand)."""

    class Static(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def copyfile(self, source: Any, outputfile: Any) -> None:
            try:
                super().copyfile(source, outputfile)
            except OSError:  # the mock stopped reading
                self.close_connection = True

    return functools.partial(Static, directory=str(folder))


@contextmanager
def dribbling_host(interval: float) -> Iterator[tuple[str, list[float]]]:
    """A dataset host that declares 1000 bytes, then sends one every `interval` seconds.
    Yields (URL, the times GETs arrived); on exit every dribble stops at once."""
    stop = threading.Event()
    gets: list[float] = []

    class Dribble(_Quiet):
        def _head(self) -> None:
            self.send_response(200)
            self.send_header("content-length", "1000")
            self.end_headers()

        def do_HEAD(self) -> None:
            self._head()

        def do_GET(self) -> None:
            gets.append(time.monotonic())
            self._head()
            try:
                while not stop.wait(interval):
                    self.wfile.write(b"x")
                    self.wfile.flush()
            except OSError:
                pass
            self.close_connection = True

    with serving(Dribble) as url:
        try:
            yield f"{url}/slow.zip", gets
        finally:
            stop.set()


class RssSampler:
    """Samples a process's resident memory (VmRSS) in a thread; `peak_mb` is the most seen
    since `start`, `baseline_mb` what it held at `start`."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._stop = threading.Event()
        self.baseline_mb = 0.0
        self.peak_mb = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self._pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def __enter__(self) -> RssSampler:
        self.baseline_mb = self.peak_mb = self.rss_mb()
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak_mb = max(self.peak_mb, self.rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self.rss_mb())

    @property
    def growth_mb(self) -> float:
        return self.peak_mb - self.baseline_mb


@contextmanager
def filtered_port() -> Iterator[int]:
    """A port whose connects hang like a firewalled one: a listener with a full backlog
    that never accepts (the kernel drops further SYNs)."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # in progress: it never completes
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def slow_images(delay: float, body: bytes) -> type[BaseHTTPRequestHandler]:
    """HEAD and GET of one image; each GET waits `delay` seconds before its body."""

    class Slow(_Quiet):
        def _head(self) -> None:
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()

        def do_HEAD(self) -> None:
            self._head()

        def do_GET(self) -> None:
            self._head()
            time.sleep(delay)
            try:
                self.wfile.write(body)
            except OSError:
                self.close_connection = True

    return Slow
