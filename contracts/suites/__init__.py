"""The check suites: each drives the target one way and records outcomes in the report."""
