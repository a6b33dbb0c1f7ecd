"""The immunization registry: match keys, synthetic extracts, and the importer.

    RegistryRecord ── write_ndjson / write_csv ──▶ extract file
    extract file ── read_ndjson / read_csv ──▶ (line, RegistryRecord | error message)
    extract file ── import_file ──▶ registry.patients / contacts / immunizations
                                    (registry.match_keys follows by trigger, 0005.match-keys.sql)
    `vaxrec registry evaluate` ──▶ recall and wrong-person matches per variation
                                    (services/matcher/_evaluate.py: the matcher scores itself)

Exceptions: UnknownFormatError (a ValueError) when a file's name names no known format.
"""

from vaxrec.registry._cli import register
from vaxrec.registry._csv import read_csv, write_csv
from vaxrec.registry._generate import DEMO_RESIDENT, generate
from vaxrec.registry._import import UnknownFormatError, import_file, import_records
from vaxrec.registry._keys import name_key, normalize_email, normalize_phone
from vaxrec.registry._model import Immunization, RegistryRecord
from vaxrec.registry._ndjson import read_ndjson, to_bundle, write_ndjson
from vaxrec.registry._summary import ImportSummary

#: The name vaxrec.cli imports; `register` is the same function.
register_cli = register

__all__ = [
    "DEMO_RESIDENT",
    "Immunization",
    "ImportSummary",
    "RegistryRecord",
    "UnknownFormatError",
    "generate",
    "import_file",
    "import_records",
    "name_key",
    "normalize_email",
    "normalize_phone",
    "read_csv",
    "read_ndjson",
    "register",
    "register_cli",
    "to_bundle",
    "write_csv",
    "write_ndjson",
]
