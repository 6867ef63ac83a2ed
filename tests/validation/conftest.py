"""Fixtures of the request-validation tests: the echo app (tests.validation.echo) on the tiny
spec, on the tiny spec with small body caps, and on the real contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from mock_server.spec import SpecBundle
from mock_server.spec.loader import load_document
from tests.validation.echo import TINY, serving


@pytest.fixture(scope="module")
def tiny() -> SpecBundle:
    doc = load_document(TINY)
    return SpecBundle({doc.name: doc})


@pytest.fixture
async def client(tiny: SpecBundle) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(tiny) as client:
        yield client


@pytest.fixture
async def small(tiny: SpecBundle) -> AsyncIterator[httpx.AsyncClient]:
    """The tiny spec with body caps of 256 bytes (JSON) and 512 bytes (forms)."""
    async with serving(tiny, max_json_bytes=256, max_form_bytes=512) as client:
        yield client


@pytest.fixture
async def real(bundle: SpecBundle) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(bundle) as client:
        yield client
