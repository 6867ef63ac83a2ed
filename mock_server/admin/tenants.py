"""The tenants the mock knows, and the opaque handle that stands for one on the dashboard:
its pages and their links carry a handle, never a key (a page is cached, shared, screenshot;
a filter URL lands in the browser's history)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.errors import NotFound
from mock_server.runtime import Runtime
from mock_server.webhooks.admin import all_webhooks

if TYPE_CHECKING:
    from mock_server.services import Services

HANDLE_PREFIX = "t-"


def known(rt: Runtime, services: Services) -> list[str]:
    """Every tenant the mock knows: of a configured key, with credits of its own, owning jobs
    or webhooks. (Not from the journal: a refused request's key is no tenant.)"""
    found = {rt.tenants.of(key) for key in rt.config.api_keys}
    found.update(services.credits.known_tenants())
    for kind in services.jobs.values():
        found.update(job.tenant for job in kind.list(None))
    found.update(row["tenant"] for row in all_webhooks(rt.store))
    return sorted(found)


def handle(services: Services, tenant: str) -> str:
    """The tenant's handle: the salted id its asset and upload URLs already carry."""
    return HANDLE_PREFIX + str(services.storage.tenant_dir(tenant))


def resolve(rt: Runtime, services: Services, tenant_id: str) -> str:
    """The tenant a handle stands for; NotFound for a handle of no known tenant."""
    for tenant in known(rt, services):
        if handle(services, tenant) == tenant_id:
            return tenant
    raise NotFound(f"No tenant {tenant_id}")
