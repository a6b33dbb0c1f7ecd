"""`vaxrec verify INPUT...`: check SMART Health Cards as a clinic or a business would.

INPUT is a `shc:/` text (one QR, or every part of an old chunked `shc:/i/n/...` card), a
`.smart-health-card` file, a picture of the QR code (PNG, JPEG, ...), a bare JWS, or `-` for
standard input. Keys come from a trust file in the VCI directory's format (`--trust`), or from
the issuer's `/.well-known/jwks.json` (`--fetch`), or both (the file's keys first).

Exit status: 0 every card is valid, 1 a card is invalid or unreadable, 2 a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vaxrec.shc import (
    DirectoryKeys,
    FirstOf,
    HttpIssuers,
    InvalidCard,
    Verification,
    as_json,
    jws_from_qr_texts,
    jws_from_text,
    unreadable_json,
    verify,
)
from vaxrec.shc._input import looks_like_image, qr_texts_from_image

EXIT_VALID, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments: exit status 2."""


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vaxrec" / "issuers"


_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def _is_file(item: str) -> bool:
    try:
        return Path(item).is_file()
    except (OSError, ValueError):  # a name too long, or with a NUL byte
        return False


@dataclass
class _Read:
    """What the inputs hold: cards to verify, and inputs that could not be read at all."""

    cards: list[str]
    unreadable: list[str]


def _read_inputs(inputs: list[str]) -> _Read:
    qr_texts: list[str] = []
    read = _Read(cards=[], unreadable=[])
    for item in inputs:
        try:
            if item == "-":
                data = sys.stdin.buffer.read()
            elif item.lower().startswith("shc:/") or _JWS.match(item) or "\n" in item:
                data = item.encode()
            elif _is_file(item):
                data = Path(item).read_bytes()
            else:
                raise UsageError(f"{item[:60]!r} is neither a file nor a shc:/ text nor a JWS")
            if looks_like_image(data):
                qr_texts.extend(qr_texts_from_image(data))
                continue
            text = data.decode("utf-8", errors="strict")
            if text.strip().lower().startswith("shc:/"):
                qr_texts.extend(text.split())
            else:
                read.cards.extend(jws_from_text(text))
        except (InvalidCard, UnicodeDecodeError) as err:
            read.unreadable.append(
                err.reason if isinstance(err, InvalidCard) else "unreadable-input"
            )
    if qr_texts:
        try:
            read.cards[:0] = jws_from_qr_texts(qr_texts)
        except InvalidCard as err:
            read.unreadable.append(err.reason)
    return read


def _trust(path: str | None) -> DirectoryKeys | None:
    if path is None:
        return None
    try:
        return DirectoryKeys.from_trust_file(path)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UsageError(f"cannot read trust file {path}: {err}") from err


async def _verify_all(args: argparse.Namespace, cards: list[str]) -> list[dict[str, Any]]:
    directory = _trust(args.trust)
    if directory is None and not args.fetch:
        raise UsageError("give --trust FILE, --fetch, or both: there is nowhere to find keys")
    cache = None if args.no_cache else Path(args.cache_dir or _default_cache_dir())
    fetcher = HttpIssuers(timeout_s=args.timeout, cache_dir=cache) if args.fetch else None
    sources = [s for s in (directory, fetcher) if s is not None]
    source: DirectoryKeys | HttpIssuers | FirstOf = (
        sources[0] if len(sources) == 1 else FirstOf(*sources)
    )
    try:
        out = []
        for jws in cards:
            result: Verification = await verify(
                jws,
                keys=source,
                trusted_issuers=directory.issuers if directory else None,
                now=time.time(),
                crl=source,  # every source here also gives CRLs
                local_http=args.allow_http_localhost,
            )
            name = directory.name_of(result.issuer) if directory and result.issuer else None
            report = as_json(result, issuer_name=name)
            report["issuer_trust_checked"] = directory is not None
            out.append(report)
        return out
    finally:
        if fetcher is not None:
            await fetcher.close()


def _print_human(report: dict[str, Any]) -> None:
    person = report["person"]
    if person:
        born = f", born {person['birth_date']}" if person.get("birth_date") else ""
        print(f"Person:  {person['name']}{born}")
    if report["issuer"]:
        name = f"{report['issuer_name']} " if report.get("issuer_name") else ""
        print(f"Issuer:  {name}({report['issuer']})")
    if report.get("issued_at"):
        print(f"Issued:  {report['issued_at']}")
    if report["doses"]:
        print("Doses:")
        for dose in report["doses"]:
            extra = ", ".join(
                x for x in (dose["lot"] and f"lot {dose['lot']}", dose["performer"]) if x
            )
            print(
                f"  {dose['date'] or '?':<10}  {dose['vaccine']}"
                + (f"  ({extra})" if extra else "")
            )
    print(f"Verdict: {'VALID' if report['valid'] else 'INVALID'}")
    for reason in report["reasons"]:
        print(f"  - {reason['text']} [{reason['code']}]")
    if report["valid"] and not report.get("issuer_trust_checked", True):
        print("  Note: no --trust file, so any https issuer's own keys were accepted.")


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        read = _read_inputs(args.input)
        reports = asyncio.run(_verify_all(args, read.cards)) if read.cards else []
        if not read.cards and args.trust is None and not args.fetch:
            raise UsageError("give --trust FILE, --fetch, or both: there is nowhere to find keys")
    except UsageError as err:
        print(f"vaxrec verify: {err}", file=sys.stderr)
        return EXIT_USAGE
    reports += [unreadable_json(code) for code in read.unreadable]
    if args.json:
        json.dump({"cards": reports}, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        for i, report in enumerate(reports):
            if i:
                print()
            _print_human(report)
    return EXIT_VALID if reports and all(r["valid"] for r in reports) else EXIT_INVALID


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `vaxrec verify`."""
    p = subparsers.add_parser(
        "verify",
        help="verify SMART Health Cards (shc:/ text, file, QR picture, JWS)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", nargs="+", metavar="INPUT")
    p.add_argument("--trust", metavar="FILE", help="VCI directory snapshot or issuer list")
    p.add_argument("--fetch", action="store_true", help="fetch keys and CRLs from the issuer")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per fetch (default 5)")
    p.add_argument("--cache-dir", help="where fetched JWKS are kept (default ~/.cache/vaxrec)")
    p.add_argument("--no-cache", action="store_true", help="keep nothing on disk")
    p.add_argument(
        "--allow-http-localhost",
        action="store_true",
        help="accept an http://127.0.0.1 or localhost issuer (development)",
    )
    p.set_defaults(func=cmd_verify)


def main(argv: list[str] | None = None) -> int:
    """`python -m vaxrec.verify_cli`, the same as `vaxrec verify`."""
    parser = argparse.ArgumentParser(prog="vaxrec")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["verify", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
