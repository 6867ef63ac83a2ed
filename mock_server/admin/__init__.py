"""tunemock's own control surface under /_mock (spec: openapi/mock-admin.yaml)."""
