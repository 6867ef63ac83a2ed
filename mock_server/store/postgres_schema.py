"""PostgresStore's schema: numbered migrations, applied at start under an advisory lock, so
instances starting at once on one database take turns and each step runs exactly once.

Docs are kept as text, not jsonb: a record's text is read back byte for byte as it was
written (jsonb reorders keys and drops duplicates), as the other stores keep it.
"""

from __future__ import annotations

import psycopg

from mock_server.store.sql_records import META_TABLE, RECORDS_TABLE, TENANT_INDEX

#: (version, statements); a released step is never edited, a change is a new step.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        f"""
        CREATE TABLE records (seq BIGSERIAL PRIMARY KEY,{RECORDS_TABLE});
        CREATE INDEX {TENANT_INDEX};
        CREATE INDEX records_by_kind ON records (kind, seq);
        CREATE TABLE {META_TABLE};
        CREATE TABLE journal (
            seq BIGSERIAL PRIMARY KEY,
            entry BYTEA NOT NULL, -- a batch of entries (store.packing)
            n INTEGER NOT NULL
        );
        CREATE TABLE due (key TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL);
        CREATE INDEX due_by_time ON due (at);
        """,
    ),
)

#: The advisory lock every start takes while it migrates (any number, fixed for tunemock).
_MIGRATION_LOCK = 0x74756E656D6F636B  # "tunemock"

_VERSIONS = """
CREATE TABLE IF NOT EXISTS tunemock_schema (
    version INTEGER PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


class NewerSchema(Exception):
    """The database was migrated by a newer tunemock than this one."""


def migrate(conn: psycopg.Connection[tuple[object, ...]]) -> list[int]:
    """Apply the steps this database lacks, in one transaction holding the migration lock
    (a second instance waits, then finds nothing left to do); the versions applied now."""
    applied_now: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(_VERSIONS)
        done = {int(str(v)) for (v,) in conn.execute("SELECT version FROM tunemock_schema")}
        known = {version for version, _ in MIGRATIONS}
        if done - known:
            raise NewerSchema(
                f"the database has schema version {max(done)}; this tunemock knows up to"
                f" {max(known)}: upgrade tunemock"
            )
        for version, statements in MIGRATIONS:
            if version in done:
                continue
            conn.execute(statements.encode())  # several statements: no parameters
            conn.execute("INSERT INTO tunemock_schema (version) VALUES (%s)", (version,))
            applied_now.append(version)
    return applied_now
