"""Numbered SQL migrations, applied with yoyo.

yoyo-migrations is used rather than a hand-written runner: it applies each numbered SQL file
in its own transaction, records what ran, and takes a lock so two replicas starting at once do
not both migrate. It speaks psycopg, not asyncpg, which is fine for a one-shot step.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

import asyncpg

MIGRATIONS = resources.files("vaxrec") / "migrations"


def _yoyo_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(scheme="postgresql+psycopg"))


def _split_database(database_url: str) -> tuple[str, str]:
    """The maintenance database URL and the name of the target database."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name:
        raise ValueError("the database URL names no database")
    return urlunsplit(parts._replace(path="/postgres")), name


async def create_database(database_url: str) -> bool:
    """Create the database the URL names if it does not exist; True if it was created."""
    admin_url, name = _split_database(database_url)
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await conn.close()


async def drop_database(database_url: str) -> None:
    admin_url, name = _split_database(database_url)
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def apply_migrations(database_url: str) -> list[str]:
    """Apply every pending migration; returns the ids applied."""
    from yoyo import get_backend, read_migrations

    backend = get_backend(_yoyo_url(database_url))
    try:
        with resources.as_file(MIGRATIONS) as folder:
            migrations = read_migrations(str(folder))
            with backend.lock():
                pending = backend.to_apply(migrations)
                backend.apply_migrations(pending)
    finally:
        backend.connection.close()
    return [m.id for m in pending]


def migrate(database_url: str, *, create: bool = True) -> list[str]:
    """Create the database if asked and missing, then apply pending migrations."""
    if create:
        asyncio.run(create_database(database_url))
    return apply_migrations(database_url)
