"""A submit's store write runs on the event loop only with a store whose writes never wait
for another process's lock (memory); with one whose writes may (SQLite, PostgreSQL) it runs
in a worker thread, so a lock held elsewhere never stalls the loop."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import running_app

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("state", [None, "s.db"])
async def test_a_submit_writes_on_the_loop_only_when_the_store_never_waits(
    tmp_path: Path, state: str | None
) -> None:
    settings: dict[str, Any] = {"datasets": "skip"}
    if state:
        settings["state"] = tmp_path / state
    async with running_app(key="k", **settings) as client:
        store = client.app.state.runtime.store  # type: ignore[attr-defined]
        service = client.app.state.services.finetune  # type: ignore[attr-defined]
        insert = store.insert
        threads: list[int] = []

        def watched(*args: Any) -> Any:
            threads.append(threading.get_ident())
            return insert(*args)

        store.insert = watched
        try:
            answer = await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        finally:
            del store.insert
        assert answer.status_code == 200, answer.text
        assert service.get(None, answer.json()["finetune_id"])  # stored
    loop_thread = threading.get_ident()
    assert len(threads) == 1
    assert (threads[0] == loop_thread) is (not store.writes_may_wait)
    assert store.writes_may_wait is (state is not None)
