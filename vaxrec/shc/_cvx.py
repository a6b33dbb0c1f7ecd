"""The one maintained table of CVX codes: resident-readable names and the COVID-19 subset.

Sources: CDC CVX list, HL7 `immunization-all-cvx`, dvci/shc-terminology (see
shared/shc-checklist.md section 3). An unknown code is never an error: the card still issues
and the resident sees "Vaccine (CVX NNN)".
"""

from __future__ import annotations

_COVID: dict[str, str] = {
    "207": "Moderna COVID-19 (Spikevax)",
    "208": "Pfizer-BioNTech COVID-19 (Comirnaty)",
    "210": "AstraZeneca COVID-19 (Vaxzevria/Covishield)",
    "211": "Novavax COVID-19",
    "212": "Janssen (J&J) COVID-19",
    "213": "COVID-19 vaccine, unspecified",
    "217": "Pfizer-BioNTech COVID-19 (Comirnaty), 12+ tris-sucrose",
    "218": "Pfizer-BioNTech COVID-19, 5-11 years",
    "219": "Pfizer-BioNTech COVID-19, 6 months-4 years",
    "221": "Moderna COVID-19, 50 mcg booster",
    "225": "Sanofi COVID-19 (5 mcg)",
    "226": "Sanofi COVID-19 (10 mcg)",
    "227": "Moderna COVID-19, pediatric 50 mcg",
    "228": "Moderna COVID-19, pediatric 25 mcg",
    "229": "Moderna COVID-19 Bivalent",
    "230": "Moderna COVID-19 Bivalent (BA.4/BA.5), 10 mcg",
    "300": "Pfizer-BioNTech COVID-19 Bivalent, 12+",
    "301": "Pfizer-BioNTech COVID-19 Bivalent, 5-11 years",
    "302": "Pfizer-BioNTech COVID-19 Bivalent, 6 months-4 years",
    "308": "Pfizer-BioNTech COVID-19 2023-24, 6 months-4 years",
    "309": "Pfizer-BioNTech COVID-19 (Comirnaty) 2023-24, 12+",
    "310": "Pfizer-BioNTech COVID-19 2023-24, 5-11 years",
    "311": "Moderna COVID-19 2023-24, 6 months-11 years",
    "312": "Moderna COVID-19 (Spikevax) 2023-24, 12+",
    "313": "Novavax COVID-19 2023-24, adjuvanted",
    "500": "COVID-19 vaccine, non-US, product unknown",
    "501": "QazVac COVID-19 (QAZCOVID-IN)",
    "502": "Bharat Biotech COVID-19 (Covaxin)",
    "503": "COVID-19 (COVIVAC)",
    "504": "Gamaleya COVID-19 (Sputnik Light)",
    "505": "Gamaleya COVID-19 (Sputnik V)",
    "506": "CanSino COVID-19 (Convidecia)",
    "507": "Anhui Zhifei Longcom COVID-19",
    "508": "Jiangsu CDC COVID-19",
    "509": "Vector Institute COVID-19 (EpiVacCorona)",
    "510": "Sinopharm BIBP COVID-19 (Covilo)",
    "511": "Sinovac COVID-19 (CoronaVac)",
    "512": "Medicago COVID-19 (Covifenz)",
    "513": "COVID-19 (Zifivax)",
    "514": "Zydus Cadila COVID-19 (ZyCoV-D)",
    "515": "Medigen COVID-19 (MVC-COV1901)",
    "516": "Minhai COVID-19 (KCONVAC)",
    "517": "Biological E COVID-19 (Corbevax)",
    "518": "Valneva COVID-19 (VLA2001)",
    "519": "Moderna COVID-19 (Spikevax Bivalent BA.1)",
    "520": "Pfizer-BioNTech COVID-19 (Comirnaty Bivalent BA.1)",
    "521": "Sanofi-GSK COVID-19 (VidPrevtyn Beta)",
}

_OTHER: dict[str, str] = {
    "03": "MMR (measles, mumps, rubella)",
    "08": "Hepatitis B, pediatric/adolescent",
    "43": "Hepatitis B, adult",
    "115": "Tdap (tetanus, diphtheria, pertussis)",
    "133": "Pneumococcal conjugate PCV13 (Prevnar 13)",
    "140": "Influenza, seasonal, injectable, preservative free",
    "141": "Influenza, seasonal, injectable",
    "150": "Influenza, injectable, quadrivalent, preservative free",
    "152": "Pneumococcal conjugate, unspecified",
    "158": "Influenza, injectable, quadrivalent",
    "165": "HPV9 (Gardasil 9)",
    "171": "Influenza, cell-culture, quadrivalent (Flucelvax)",
    "185": "Influenza, recombinant, quadrivalent (Flublok)",
    "186": "Influenza, cell-culture, quadrivalent, multi-dose (Flucelvax)",
    "187": "Zoster, recombinant (Shingrix)",
    "197": "Influenza, high-dose, quadrivalent (Fluzone High-Dose)",
    "205": "Influenza, adjuvanted, quadrivalent (Fluad)",
    "206": "Bavarian Nordic mpox/smallpox (JYNNEOS)",
    "215": "Pneumococcal conjugate PCV15 (Vaxneuvance)",
    "216": "Pneumococcal conjugate PCV20 (Prevnar 20)",
    "303": "RSV, adjuvanted (GSK Arexvy)",
    "304": "Nirsevimab RSV antibody (Beyfortus)",
    "305": "RSV, bivalent (Pfizer Abrysvo)",
    "306": "Nirsevimab RSV antibody, 100 mg (Beyfortus)",
    "307": "RSV, mRNA (Moderna mRESVIA)",
}

_NAMES: dict[str, str] = {**_COVID, **_OTHER}


def _normalize(code: str) -> str:
    code = str(code).strip()
    # CVX codes under 10 are published zero-padded ("03"); registries often drop the zero.
    return str(int(code)).zfill(2) if code.isdigit() else code


def vaccine_name(cvx: str) -> str:
    """A resident-readable name (manufacturer and product) for a CVX code; never raises."""
    code = _normalize(cvx)
    return _NAMES.get(code) or f"Vaccine (CVX {code or '?'})"


def is_covid_cvx(code: str) -> bool:
    """Whether the CVX code is a COVID-19 vaccine."""
    return _normalize(code) in _COVID
