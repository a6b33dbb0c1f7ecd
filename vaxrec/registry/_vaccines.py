"""COVID-19 vaccination histories that follow the US products, ages and dates."""

from __future__ import annotations

from datetime import date

from vaxrec.registry._model import Immunization
from vaxrec.registry._rand import FastRandom

__all__ = ["COVID_CVX", "PRODUCTS", "dose_history", "lot_number"]

#: The COVID-19 CVX codes the generator uses, and when each is given.
PRODUCTS = {
    "207": "Moderna primary series, 12+ (100 µg), from 2020-12",
    "208": "Pfizer-BioNTech primary and booster, 12+ (30 µg, purple cap), from 2020-12-14",
    "210": "AstraZeneca, given abroad (never authorized in the US)",
    "211": "Novavax primary series, from 2022-07",
    "212": "Janssen single dose, from 2021-03",
    "217": "Pfizer-BioNTech 12+ (30 µg, gray cap), from 2022-01",
    "218": "Pfizer-BioNTech 5-11 (10 µg, orange cap), from 2021-11",
    "219": "Pfizer-BioNTech 6 months-4 years (3 µg, maroon cap), from 2022-06",
    "221": "Moderna booster (50 µg), 2021-10 to 2022-08",
    "228": "Moderna 6 months-5 years (25 µg), from 2022-06",
    "229": "Moderna bivalent, from 2022-09",
    "230": "Moderna bivalent 6 months-5 years, from 2022-12",
    "300": "Pfizer-BioNTech bivalent 12+, from 2022-09",
    "301": "Pfizer-BioNTech bivalent 5-11, from 2022-10",
    "302": "Pfizer-BioNTech bivalent 6 months-4 years, from 2022-12",
    "308": "Pfizer-BioNTech 2023-2024 12+, from 2023-09",
    "309": "Pfizer-BioNTech 2023-2024 5-11, from 2023-09",
    "310": "Pfizer-BioNTech 2023-2024 6 months-4 years, from 2023-09",
    "311": "Moderna 2023-2024 12+, from 2023-09",
    "312": "Moderna 2023-2024 6 months-11 years, from 2023-09",
    "313": "Novavax 2023-2024 12+, from 2023-10",
}
COVID_CVX = frozenset(PRODUCTS)

_day = date.toordinal

FIRST_DOSE = _day(date(2020, 12, 14))
JANSSEN_FROM = _day(date(2021, 3, 2))
TEENS_FROM = _day(date(2021, 5, 12))
CHILDREN_FROM = _day(date(2021, 11, 3))
INFANTS_FROM = _day(date(2022, 6, 20))
NOVAVAX_FROM = _day(date(2022, 7, 19))
GRAY_CAP_FROM = _day(date(2022, 1, 3))
BOOSTER_FROM = _day(date(2021, 9, 24))
CHILD_BOOSTER_FROM = _day(date(2022, 5, 19))
SECOND_BOOSTER_FROM = _day(date(2022, 3, 29))
MONOVALENT_UNTIL = _day(date(2022, 8, 31))
BIVALENT_FROM = _day(date(2022, 9, 1))
BIVALENT_UNTIL = _day(date(2023, 9, 11))
FORMULA_2023_FROM = _day(date(2023, 9, 12))
NOVAVAX_2023_FROM = _day(date(2023, 10, 3))
SPRING_2024_FROM = _day(date(2024, 4, 16))
LAST_DOSE = _day(date(2024, 8, 21))

_YEAR = 365.25
_MONTHS = "ABCDEFGHIJKL"


def _age(birth: int, day: int) -> float:
    return (day - birth) / _YEAR


def lot_number(rng: FastRandom, cvx: str, day: int) -> str:
    """A lot number in the shape its manufacturer prints, drifting with the date as real lots do."""
    d = date.fromordinal(day)
    if cvx in {"207", "221", "228", "229", "230", "311", "312"}:
        # Moderna: serial, then the manufacturing month letter and year ("039K20A").
        made = date.fromordinal(day - rng.between(30, 90))
        return f"{rng.between(1, 99):03d}{_MONTHS[made.month - 1]}{made.year % 100:02d}A"
    if cvx == "212":
        return f"{rng.between(200, 209)}A{d.year % 100:02d}A"
    if cvx in {"211", "313"}:
        return f"43{rng.between(0, 9)}{rng.between(0, 9)}MF{rng.between(1, 30):03d}"
    if cvx == "210":
        return f"ABV{rng.between(1000, 9999)}"
    # Pfizer: two letters that advance through the campaign, then four digits ("EN6207").
    months = (d.year - 2020) * 12 + d.month - 12
    first = "EFGHJ"[min(months // 10, 4)]
    return f"{first}{'ABCDEFGHJKLMNPRSTW'[rng.below(18)]}{rng.between(1000, 9999)}"


def _pfizer_primary(rng: FastRandom, age: float, day: int) -> str:
    if age < 5:
        return "219"
    if age < 12:
        return "218"
    # The gray-cap (tris-sucrose) formula replaced purple-cap vials during 2022.
    return "217" if day >= GRAY_CAP_FROM and rng.random() < 0.4 else "208"


def _bivalent(brand: str, age: float) -> str:
    if brand == "moderna":
        return "230" if age < 6 else "229"
    return "302" if age < 5 else "301" if age < 12 else "300"


def _formula_2023(brand: str, age: float) -> str:
    if brand == "novavax" and age >= 12:
        return "313"
    if brand == "moderna":
        return "312" if age < 12 else "311"
    return "310" if age < 5 else "309" if age < 12 else "308"


def _booster_brand(rng: FastRandom) -> str:
    r = rng.random()
    return "pfizer" if r < 0.55 else "moderna" if r < 0.95 else "novavax"


def _primary(rng: FastRandom, birth: int) -> list[tuple[str, int]]:
    """The primary series as (cvx, day) pairs; may stop after the first dose."""
    if _age(birth, FIRST_DOSE) < 18:
        # Children wait for their age group's authorization and their own age.
        if _age(birth, CHILDREN_FROM) >= 12:
            start = TEENS_FROM
        elif _age(birth, CHILDREN_FROM) >= 5:
            start = CHILDREN_FROM
        else:
            start = max(INFANTS_FROM, birth + 183)
        start += int(rng.triangular(0, 300, 20))
    else:
        # Older residents went first: the start drifts later with youth.
        lag = max(0.0, 85 - _age(birth, FIRST_DOSE)) * 2.5
        start = FIRST_DOSE + int(lag + rng.triangular(0, 240, 30))
    age = _age(birth, start)
    r = rng.random()
    if age >= 18 and r < 0.06:
        return [("212", max(start, JANSSEN_FROM))]
    if age >= 18 and r < 0.065:
        # Given abroad: AstraZeneca was never authorized in the US.
        start = _day(date(2021, 2, 1)) + rng.below(180)
        return [("210", start), ("210", start + rng.between(28, 84))]
    if age >= 18 and r < 0.08:
        start = max(start, NOVAVAX_FROM)
        series = [("211", start), ("211", start + 21)]
    elif r < 0.45 and (age >= 18 or age < 6):
        cvx = "228" if age < 6 else "207"
        series = [(cvx, start), (cvx, start + 28)]
    else:
        cvx = _pfizer_primary(rng, age, start)
        second = start + (rng.between(21, 42) if cvx == "219" else rng.between(21, 28))
        series = [(cvx, start), (cvx, second)]
        if cvx == "219":
            series.append((cvx, second + rng.between(56, 70)))
    if rng.random() < 0.08:
        return series[:1]
    return series


def _boosters(rng: FastRandom, birth: int, last: int, janssen: bool) -> list[tuple[str, int]]:
    doses: list[tuple[str, int]] = []

    def give(cvx: str, day: int) -> None:
        nonlocal last
        doses.append((cvx, day))
        last = day

    age = _age(birth, last)
    wait = 60 if janssen else 150
    day = max(last + wait, BOOSTER_FROM if age >= 12 else CHILD_BOOSTER_FROM)
    day += rng.below(120)
    if age >= 5 and day <= MONOVALENT_UNTIL and rng.random() < 0.65:
        brand = _booster_brand(rng)
        if brand == "moderna" and _age(birth, day) >= 18:
            give("221", day)
        else:
            give(_pfizer_primary(rng, _age(birth, day), day), day)
        day = max(last + 120, SECOND_BOOSTER_FROM) + rng.below(90)
        if _age(birth, day) >= 50 and day <= MONOVALENT_UNTIL and rng.random() < 0.45:
            give("208" if _booster_brand(rng) == "pfizer" else "221", day)
    day = max(last + 60, BIVALENT_FROM) + rng.below(150)
    if day <= BIVALENT_UNTIL and rng.random() < 0.5:
        brand = "moderna" if _booster_brand(rng) == "moderna" else "pfizer"
        cvx = _bivalent(brand, _age(birth, day))
        if cvx in {"230", "302"}:
            day = max(day, _day(date(2022, 12, 9)))
        elif cvx == "301":
            day = max(day, _day(date(2022, 10, 12)))
        if day <= BIVALENT_UNTIL:
            give(cvx, day)
    day = max(last + 60, FORMULA_2023_FROM) + rng.below(120)
    if day <= LAST_DOSE and rng.random() < 0.4:
        brand = _booster_brand(rng)
        cvx = _formula_2023(brand, _age(birth, day))
        if cvx == "313":
            day = max(day, NOVAVAX_2023_FROM)
        give(cvx, day)
        day = max(last + 120, SPRING_2024_FROM) + rng.below(60)
        if _age(birth, day) >= 65 and day <= LAST_DOSE and rng.random() < 0.3:
            give(_formula_2023(brand, 70), day)
    return doses


def dose_history(rng: FastRandom, birth: int, providers: list[str]) -> list[Immunization]:
    """One resident's doses in date order, 1 to 7 of them; birth is a date ordinal."""
    series = _primary(rng, birth)
    if series[-1][0] == "212" or len(series) > 1:
        series += _boosters(rng, birth, series[-1][1], janssen=series[-1][0] == "212")
    site = rng.pick(providers)
    doses = []
    for i, (cvx, day) in enumerate(series):
        if i >= 2 or (i == 1 and rng.random() < 0.1):
            # Boosters came mostly from pharmacies; a primary series mostly from one site.
            site = rng.pick(providers)
        lot = lot_number(rng, cvx, day) if rng.random() < 0.95 else None
        performer = site if rng.random() < 0.97 else None
        doses.append(Immunization(cvx, date.fromordinal(day), lot, performer))
    return doses
