"""The `vaxrec` command: operator tasks (migrate, run, keys, registry, outbox, cards, verify)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/vaxrec"
DEFAULT_KEYS = Path(".vaxrec/keys")


def _database_url(args: argparse.Namespace) -> str:
    return str(args.database_url or os.environ.get("VAXREC_DATABASE_URL", DEFAULT_DATABASE_URL))


def cmd_migrate(args: argparse.Namespace) -> int:
    from vaxrec.migrate import migrate

    applied = migrate(_database_url(args), create=not args.no_create)
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


BANNER = """
vaxrec is starting (Ctrl-C stops all five services)

  intake   http://127.0.0.1:{intake}/api/v1/record-requests
  viewer   http://127.0.0.1:{viewer}/   (JWKS: /.well-known/jwks.json)

  demo resident: John Doe, born 1951-08-15, phone +1 213 555 0100, email john.doe@example.org

  curl -s http://127.0.0.1:{intake}/api/v1/record-requests -H 'content-type: application/json' \\
    -d '{{"first_name":"John","last_name":"Doe","date_of_birth":"1951-08-15",
         "phone":"+1 213 555 0100","pin":"4829","consent":true,"language":"en"}}'

  read what was sent:  .venv/bin/vaxrec outbox   (or --json, or http://127.0.0.1:{viewer}/dev/outbox)
"""


def cmd_run(args: argparse.Namespace) -> int:
    from honcho.manager import Manager  # a real process runner, not a hand-written supervisor

    print(
        BANNER.format(
            intake=os.environ.get("VAXREC_INTAKE_PORT", "8080"),
            viewer=os.environ.get("VAXREC_VIEWER_PORT", "8081"),
        ),
        flush=True,
    )
    procfile = Path(args.procfile)
    # The Procfile says `python`: make that this installation's interpreter.
    env = os.environ.copy()
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    manager = Manager()
    for line in procfile.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            manager.add_process(name.strip(), command.strip(), env=env)
    manager.loop()
    return int(manager.returncode or 0)


def cmd_outbox(args: argparse.Namespace) -> int:
    import asyncpg

    async def fetch() -> list[dict[str, object]]:
        conn = await asyncpg.connect(_database_url(args))
        try:
            rows = await conn.fetch(
                "SELECT to_address, channel, language, subject, body, created_at "
                "FROM notify.dev_outbox ORDER BY id"
            )
        finally:
            await conn.close()
        return [
            {
                "to": r["to_address"],
                "channel": r["channel"],
                "language": r["language"],
                "subject": r["subject"],
                "body": r["body"],
                "created_at": r["created_at"].isoformat(),
            }
            for r in rows
        ]

    messages = asyncio.run(fetch())
    if args.json:
        json.dump(messages, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        for m in messages:
            print(f"--- {m['created_at']} {m['channel']} to {m['to']} ({m['language']})")
            print(m["body"])
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from services.signer._keys import add_key, ensure_key, load_keys

    directory = Path(args.dir)
    if args.keys_command == "generate":
        kid, created = ensure_key(directory)
        print(f"{'created' if created else 'kept existing'} signing key {kid} in {directory}")
    elif args.keys_command == "rotate":
        kid = add_key(directory, activate=True)
        print(f"new active signing key {kid}; older keys stay published")
    else:
        ring = load_keys(directory)
        for key in ring.keys:
            kid = str(key.thumbprint())
            print(f"{kid}  {'active' if kid == ring.active_kid else 'retired'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vaxrec", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("migrate", help="create the database if missing and apply migrations")
    p.add_argument("--database-url")
    p.add_argument("--no-create", action="store_true", help="do not create the database")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("run", help="start all five services (honcho, Procfile)")
    p.add_argument("--procfile", default="Procfile")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("outbox", help="print the development outbox")
    p.add_argument("--database-url")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_outbox)

    p = sub.add_parser("keys", help="signing keys: generate, rotate, list")
    p.add_argument("keys_command", choices=["generate", "rotate", "list"])
    p.add_argument("--dir", default=os.environ.get("VAXREC_SIGNER_KEYS", str(DEFAULT_KEYS)))
    p.set_defaults(func=cmd_keys)

    from vaxrec.registry._cli import register as register_registry

    register_registry(sub)

    from vaxrec.revocation import register as register_cards
    from vaxrec.verify_cli import register as register_verify

    register_cards(sub)
    register_verify(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
