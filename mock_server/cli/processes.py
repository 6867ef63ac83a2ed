"""What `tunemock serve` does around uvicorn's processes: bind the port before saying it
listens, and make worker processes end with the master (even a kill -9 of it)."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import signal
import socket
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_WATCH_EVERY = 0.25  # seconds between two looks at the parent
_GRACE = 5.0  # seconds a worker has to stop after SIGTERM before it exits hard


class PortTaken(Exception):
    """The address cannot be bound; the message is the one line to print."""


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket bound to host:port, as uvicorn binds one (SO_REUSEADDR, IPv6
    when the host is an IPv6 address). PortTaken, one line, when it is in use or refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortTaken(
                f"port {port} on {host} is already in use: stop what holds it, "
                f"or choose another with --port"
            ) from exc
        raise PortTaken(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)  # handed to uvicorn's worker processes
    return sock


def _parent_death_signal(sig: int) -> bool:
    """Ask Linux to send `sig` to this process when its parent dies; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _stop_when_orphaned(parent: int) -> None:
    # a watchdog, for where prctl is missing and as the second line where it is not: the
    # parent is gone once this process has another one (init, or a subreaper)
    while os.getppid() == parent:
        time.sleep(_WATCH_EVERY)
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful stop
    time.sleep(_GRACE)
    os._exit(1)  # a stop that hangs (a connection that never ends) must not keep the port


def die_with_parent(master: int) -> None:
    """Called in a worker process of `master`: it stops when the master dies, however the
    master died. Without it, a kill -9 of the master left the workers serving the port, and
    a restart failed with EADDRINUSE."""
    _parent_death_signal(signal.SIGTERM)
    if os.getppid() != master:  # the master died before the signal was asked for
        os.kill(os.getpid(), signal.SIGTERM)
        return
    with contextlib.suppress(RuntimeError):
        threading.Thread(
            target=_stop_when_orphaned, args=(master,), name="tunemock-orphan-watch", daemon=True
        ).start()
