"""`vaxrec registry generate | import | load-demo | evaluate`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import os
import sys
import time
from collections.abc import Iterator
from typing import TextIO

import asyncpg

from vaxrec.registry._csv import write_csv
from vaxrec.registry._generate import generate
from vaxrec.registry._import import UnknownFormatError, import_file, import_records
from vaxrec.registry._ndjson import write_ndjson
from vaxrec.registry._summary import ImportSummary

__all__ = ["DEFAULT_DATABASE_URL", "register"]

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/vaxrec"
_LISTED = 50


def _database_url(args: argparse.Namespace) -> str:
    return str(args.database_url or os.environ.get("VAXREC_DATABASE_URL", DEFAULT_DATABASE_URL))


@contextlib.contextmanager
def _output(path: str) -> Iterator[TextIO]:
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
    elif path.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8", newline="") as fp:
            yield fp
    else:
        with open(path, "w", encoding="utf-8", newline="") as fp:
            yield fp


def cmd_generate(args: argparse.Namespace) -> int:
    """Write a synthetic registry extract."""
    fmt = args.format or ("csv" if args.out.removesuffix(".gz").endswith(".csv") else "ndjson")
    started = time.perf_counter()
    records = generate(args.residents, args.seed, include_demo=not args.no_demo)
    with _output(args.out) as fp:
        count = write_csv(records, fp) if fmt == "csv" else write_ndjson(records, fp)
    seconds = time.perf_counter() - started
    # Statistics go to stderr so that `--out -` stays a clean extract.
    print(
        f"generated {count} residents ({fmt}) in {seconds:.1f} s "
        f"({count / max(seconds, 1e-9):,.0f} residents/s)",
        file=sys.stderr,
    )
    return 0


def print_summary(summary: ImportSummary, out: TextIO | None = None) -> None:
    """Print an import's counts, then its rejections and warnings by line number."""
    out = out or sys.stdout
    rate = summary.residents / max(summary.seconds, 1e-9) * 60
    print(
        f"loaded {summary.loaded}, updated {summary.updated}, unchanged {summary.unchanged}, "
        f"rejected {summary.rejected} in {summary.seconds:.1f} s ({rate:,.0f} residents/minute)",
        file=out,
    )
    # Messages name the field and the problem, never the value: they are safe to print.
    for label, items, total in (
        ("rejected", summary.rejections, summary.rejected),
        ("warning", summary.warnings, len(summary.warnings)),
    ):
        for line, message in items[:_LISTED]:
            print(f"  line {line}: {label}: {message}", file=out)
        if total > _LISTED:
            print(f"  … and {total - _LISTED} more {label} lines", file=out)


async def _import(args: argparse.Namespace) -> ImportSummary:
    return await import_file(_database_url(args), args.file)


async def _load_demo(args: argparse.Namespace) -> ImportSummary:
    records = generate(args.residents, args.seed)
    return await import_records(_database_url(args), enumerate(records, 1))


def _report(run: str, args: argparse.Namespace) -> int:
    try:
        summary = asyncio.run(_import(args) if run == "import" else _load_demo(args))
    except UnknownFormatError as exc:
        print(f"vaxrec registry import: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError:
        print(f"vaxrec registry import: no such file: {args.file}", file=sys.stderr)
        return 2
    except asyncpg.UndefinedTableError:
        print(
            "vaxrec registry: the registry tables are missing; run `vaxrec migrate`",
            file=sys.stderr,
        )
        return 2
    print_summary(summary)
    return 1 if summary.rejected else 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import an extract; exit status 1 if any line was rejected."""
    return _report("import", args)


def cmd_load_demo(args: argparse.Namespace) -> int:
    """Load the demo registry (John Doe and synthetic residents); idempotent."""
    return _report("load-demo", args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score vaxrec's matcher and the baselines; exit status 1 if vaxrec misses its targets."""
    # The matcher's own code is evaluated: imported only when this command runs.
    from services.matcher._evaluate import evaluate_throwaway

    print(
        f"building the evaluation registry ({args.residents} residents, seed {args.seed}) in a "
        "throwaway database …",
        file=sys.stderr,
        flush=True,
    )
    result = asyncio.run(
        evaluate_throwaway(
            _database_url(args),
            residents=args.residents,
            seed=args.seed,
            per_variation=args.per_variation,
        )
    )
    result.print(sys.stdout)
    return 0 if result.meets_targets else 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `registry` command and its subcommands."""
    registry = subparsers.add_parser("registry", help="generate and import registry extracts")
    sub = registry.add_subparsers(dest="registry_command", required=True)
    db_help = "default: $VAXREC_DATABASE_URL, else " + DEFAULT_DATABASE_URL

    p = sub.add_parser("generate", help="write a synthetic registry extract")
    p.add_argument("--residents", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--format", choices=["ndjson", "csv"], help="default: from --out, else ndjson")
    p.add_argument("--out", default="-", help="file (.gz compresses) or - for stdout")
    p.add_argument("--no-demo", action="store_true", help="leave out the demo resident")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("import", help="import an extract (.ndjson, .jsonl, .csv, optionally .gz)")
    p.add_argument("file")
    p.add_argument("--database-url", help=db_help)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("load-demo", help="generate and import the demo registry (idempotent)")
    p.add_argument("--residents", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database-url", help=db_help)
    p.set_defaults(func=cmd_load_demo)

    p = sub.add_parser(
        "evaluate",
        help="recall and wrong-person matches of the matcher and two baselines, per variation",
        description="Builds a labelled evaluation set from the synthetic registry in a "
        "throwaway database on the server that --database-url names (dropped afterwards).",
    )
    p.add_argument("--residents", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--per-variation", type=int, default=200, help="requests per variation")
    p.add_argument("--database-url", help=db_help + " (only its server is used)")
    p.set_defaults(func=cmd_evaluate)
