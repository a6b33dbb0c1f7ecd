"""Export the JSON Schema of every contract: `python -m contracts.export [--check]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contracts import CONTRACTS, Envelope

SCHEMAS = Path(__file__).parent / "schemas"


def schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema of the envelope carrying that contract."""
    out: dict[str, dict[str, Any]] = {}
    for contract in CONTRACTS:
        schema = Envelope[contract].model_json_schema()  # type: ignore[valid-type]
        schema["title"] = contract.__name__
        schema["$id"] = f"https://vaxrec.org/contracts/{contract.routing_key()}.json"
        schema["x-routing-key"] = contract.routing_key()
        out[f"{contract.routing_key()}.json"] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for name, schema in schemas().items():
        path = SCHEMAS / name
        text = render(schema)
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print("stale schemas (run python -m contracts.export):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
