"""Webhooks that really fire: the registry (per tenant), event payloads built and checked
against the spec's `webhooks:`, durable deliveries with retries, and the dispatcher."""
