"""`vaxrec registry …` through a parser of the tests' own, as the lead wires it."""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
from pathlib import Path

import asyncpg
import pytest

from vaxrec.registry import register


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="vaxrec")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["registry", *argv])
    return int(args.func(args))


def fetchval(url: str, query: str, *params: object) -> object:
    async def go() -> object:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(query, *params)
        finally:
            await conn.close()

    return asyncio.run(go())


def test_generate_writes_ndjson_csv_and_gzip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run("generate", "--residents", "20", "--seed", "4", "--out", str(tmp_path / "a.ndjson"))
        == 0
    )
    lines = (tmp_path / "a.ndjson").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 20
    assert json.loads(lines[0])["registry_id"] == "DEMO-0001"
    assert "generated 20 residents (ndjson)" in capsys.readouterr().err

    assert run("generate", "--residents", "5", "--out", str(tmp_path / "a.csv")) == 0
    assert (tmp_path / "a.csv").read_text(encoding="utf-8").startswith("registry_id,given_names,")

    assert (
        run("generate", "--residents", "5", "--no-demo", "--out", str(tmp_path / "b.jsonl.gz")) == 0
    )
    with gzip.open(tmp_path / "b.jsonl.gz", "rt", encoding="utf-8") as fp:
        assert json.loads(fp.readline())["registry_id"] == "SYN-00000001"


def test_generate_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("generate", "--residents", "3", "--format", "csv") == 0
    captured = capsys.readouterr()
    assert captured.out.count("\n") == 1 + 2 + len(captured.out.splitlines()[3:])
    assert captured.out.splitlines()[1].startswith("DEMO-0001,John,Doe,1951-08-15,")


def test_import_prints_counts_and_rejections_without_personal_data(
    own_database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.ndjson"
    assert run("generate", "--residents", "30", "--seed", "8", "--no-demo", "--out", str(path)) == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    secret = json.loads(lines[4])["bundle"]["entry"][0]["resource"]
    lines[4] = lines[4].replace(secret["birthDate"], secret["birthDate"].replace("-", "/"))
    lines.insert(10, '{"registry_id": "Z-1", "phone": "+12135550100"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()

    assert run("import", str(path), "--database-url", own_database_url) == 1
    out = capsys.readouterr().out
    assert out.startswith("loaded 29, updated 0, unchanged 0, rejected 2 in ")
    assert "  line 5: rejected: Patient.birthDate is not a date (YYYY-MM-DD)" in out
    assert "  line 11: rejected: not valid JSON" in out
    for personal in (secret["birthDate"], *secret["name"][0]["given"], secret["name"][0]["family"]):
        assert personal not in out
    assert "2135550100" not in out


def test_import_reads_the_url_from_the_environment(
    own_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "y.csv"
    assert run("generate", "--residents", "5", "--seed", "2", "--no-demo", "--out", str(path)) == 0
    monkeypatch.setenv("VAXREC_DATABASE_URL", own_database_url)
    assert run("import", str(path)) == 0
    assert "rejected 0" in capsys.readouterr().out


def test_import_of_an_unknown_format_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "extract.txt"
    path.write_text("hello")
    assert run("import", str(path), "--database-url", "postgresql://nobody@127.0.0.1:1/x") == 2
    assert ".ndjson, .jsonl or .csv" in capsys.readouterr().err


def test_load_demo_is_idempotent(own_database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # This module's own database: earlier tests here imported SYN- residents of other seeds.
    fetchval(own_database_url, "TRUNCATE registry.patients CASCADE")
    args = ("load-demo", "--residents", "200", "--seed", "1", "--database-url", own_database_url)
    assert run(*args) == 0
    assert capsys.readouterr().out.startswith("loaded 200, updated 0, unchanged 0, rejected 0")
    assert run(*args) == 0
    assert capsys.readouterr().out.startswith("loaded 0, updated 0, unchanged 200, rejected 0")
    assert (
        fetchval(
            own_database_url,
            "SELECT count(*) FROM registry.patients p JOIN registry.contacts c USING (registry_id) "
            "WHERE p.given_key = 'john' AND p.family_key = 'doe' AND p.birth_date = '1951-08-15' "
            "AND c.kind = 'phone' AND c.value = '+12135550100'",
        )
        == 1
    )
    assert (
        fetchval(
            own_database_url,
            "SELECT string_agg(cvx || ' ' || occurred_on || ' ' || coalesce(lot_number, '-'), ', ' "
            "ORDER BY occurred_on) FROM registry.immunizations WHERE registry_id = 'DEMO-0001'",
        )
        == "208 2021-02-23 -, 208 2021-03-16 EN6207"
    )
