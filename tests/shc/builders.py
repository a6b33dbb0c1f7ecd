"""Test data for card tests: the spec's published vectors (shared/vectors/shc) and builders."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey

from vaxrec.shc import DoseData, PatientData

#: Every COVID-19 CVX code the issue names, US and non-US (checklist section 3).
COVID_CVX_CODES = (
    *("207", "208", "210", "211", "212", "213", "217", "218", "219", "221"),
    *("225", "226", "227", "228", "229", "230", "300", "301", "302"),
    *map(str, range(308, 314)),
    *map(str, range(500, 522)),
)

EXAMPLE_ISS = "https://spec.smarthealth.cards/examples/issuer"
EXAMPLE_KID = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"
X5C_KID = "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw"
# Example 03's exp is 1718986764.657 (June 2024); its nbf is 1687450764.657.
BEFORE_EXP_03 = 1_700_000_000.0


@dataclass(frozen=True)
class Vectors:
    """Readers for the files in shared/vectors/shc."""

    root: Path

    def text(self, name: str) -> str:
        return (self.root / name).read_text(encoding="utf-8")

    def json(self, name: str) -> Any:
        return json.loads(self.text(name))

    def jws(self, n: str) -> str:
        return self.text(f"example-{n}-d-jws.txt")

    def minified(self, n: str) -> bytes:
        return (self.root / f"example-{n}-c-jws-payload-minified.json").read_bytes()

    def qr_texts(self, n: str) -> list[str]:
        return [p.read_text() for p in sorted(self.root.glob(f"example-{n}-f-*.txt"))]

    def private_key(self, index: int = 0) -> ECKey:
        return ECKey.import_key(self.json("issuer.jwks.private.json")["keys"][index])

    def jwks(self) -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = self.json("jwks.json")["keys"]
        return keys

    def crl(self) -> dict[str, Any]:
        crl: dict[str, Any] = self.json(f"{EXAMPLE_KID}.json")
        return crl


def patient() -> PatientData:
    return PatientData(
        given_names="John  B.", family_name="Anyperson", birth_date=date(1951, 1, 20)
    )


PERFORMERS = [
    "Kaiser Permanente Northern California Regional Vaccination Center",
    "Saint Mary's Community Hospital and Outpatient Immunization Clinic",
    "Walgreens Pharmacy #12345 Downtown Metropolitan Area",
    "County Public Health Department Mobile Vaccination Unit 7",
]
CVX_CYCLE = ["207", "208", "141", "115", "187", "229", "300", "150", "03", "165"]


def many_doses(count: int, *, start: date = date(2015, 1, 5)) -> list[DoseData]:
    """A long, varied history: distinct dates, products, lots and long performer names."""
    return [
        DoseData(
            cvx=CVX_CYCLE[i % len(CVX_CYCLE)],
            occurred_on=start + timedelta(days=37 * i + (i * i) % 11),
            lot_number=f"LOT-{(i * 7919) % 100000:05d}{chr(65 + i % 26)}X{i * 31 % 97}",
            performer=PERFORMERS[i % len(PERFORMERS)],
        )
        for i in range(count)
    ]
