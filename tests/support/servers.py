"""Finding the Postgres and RabbitMQ servers a test run uses."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from vaxrec.migrate import apply_migrations, create_database, drop_database

LOCAL_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


@dataclass(frozen=True)
class DatabaseServer:
    url: str

    def database_url(self, name: str) -> str:
        return urlunsplit(urlsplit(self.url)._replace(path=f"/{name}"))


@dataclass(frozen=True)
class BrokerServer:
    amqp_url: str


def docker_available() -> bool:
    """True when a Docker engine answers (testcontainers can start containers)."""
    if not os.environ.get("DOCKER_HOST") and not os.path.exists("/var/run/docker.sock"):
        return False
    import docker

    try:
        client = docker.from_env(timeout=2)
    except Exception:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


@contextlib.contextmanager
def start_servers() -> Iterator[tuple[DatabaseServer, BrokerServer]]:
    named_db = os.environ.get("VAXREC_TEST_DATABASE_URL")
    named_amqp = os.environ.get("VAXREC_TEST_AMQP_URL")
    with contextlib.ExitStack() as stack:
        if named_db is None and named_amqp is None and docker_available():
            db_url, amqp_url = stack.enter_context(throwaway_containers())
        else:
            db_url = named_db or LOCAL_DATABASE_URL
            amqp_url = named_amqp or LOCAL_AMQP_URL
        yield DatabaseServer(db_url), BrokerServer(amqp_url)


@contextlib.contextmanager
def throwaway_containers() -> Iterator[tuple[str, str]]:
    from testcontainers.postgres import PostgresContainer
    from testcontainers.rabbitmq import RabbitMqContainer

    with (
        PostgresContainer("postgres:16-alpine", driver=None) as pg,
        RabbitMqContainer("rabbitmq:3.13-alpine") as mq,
    ):
        db_url = pg.get_connection_url()
        amqp_url = (
            f"amqp://{mq.username}:{mq.password}@{mq.get_container_host_ip()}:"
            f"{mq.get_exposed_port(mq.port)}/"
        )
        yield db_url, amqp_url


@contextlib.contextmanager
def throwaway_database(server: DatabaseServer) -> Iterator[str]:
    """A new migrated database, dropped afterwards."""
    url = server.database_url(f"vaxrec_test_{secrets.token_hex(4)}")
    asyncio.run(create_database(url))
    try:
        apply_migrations(url)
        yield url
    finally:
        asyncio.run(drop_database(url))
