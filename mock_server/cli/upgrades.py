"""WebSocket upgrade requests, answered as the plain HTTP requests they also are: the mock
serves no WebSocket route, so no WebSocket library is loaded (`ws="none"`). uvicorn then
logs two warnings per such request, the second telling the reader to install a library,
which would change nothing here; uvicorn has no setting for them, so a filter drops them."""

from __future__ import annotations

import logging

#: how uvicorn's two warnings start (uvicorn.protocols.http.*_impl)
_WARNINGS = ("Unsupported upgrade request.", "No supported WebSocket library detected.")


class _DropUpgradeWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_WARNINGS)


def quiet_upgrade_warnings() -> None:
    """Drop uvicorn's upgrade warnings in this process (once; uvicorn's own logging set-up
    keeps a logger's filters)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropUpgradeWarnings) for f in logger.filters):
        logger.addFilter(_DropUpgradeWarnings())
