"""The languages vaxrec answers residents in, and the message files a translator edits.

Every text a resident reads lives in ``vaxrec/locales/<language>/<name>.txt``: one file per
language and message, so a translation is a text edit and never a code change. Placeholders are
written ``{name}`` and filled by `fill`; every language must have every message English has,
with the same placeholders (a test enforces both). ``vaxrec/locales/README.md`` is the
translators' guide.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from importlib import resources
from typing import Literal

__all__ = [
    "AUTONYMS",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "PLACEHOLDER",
    "RIGHT_TO_LEFT",
    "fill",
    "message",
    "message_names",
    "page_text",
    "pick_language",
    "placeholders",
    "request_language",
    "text_direction",
]

#: The languages with a complete set of messages (BCP 47 tags, as the locale folders are named).
LANGUAGES: tuple[str, ...] = ("en", "es", "zh-Hans", "zh-Hant", "ko", "vi", "ar", "tl")
DEFAULT_LANGUAGE = "en"
RIGHT_TO_LEFT = frozenset({"ar"})
#: Each language's name in itself, as a language switcher shows it (never translated).
AUTONYMS: dict[str, str] = {
    "en": "English",
    "es": "Español",
    "zh-Hans": "简体中文",
    "zh-Hant": "繁體中文",
    "ko": "한국어",
    "vi": "Tiếng Việt",
    "ar": "العربية",
    "tl": "Tagalog",
}

_LOCALES = resources.files("vaxrec") / "locales"
_NAME = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")
#: A placeholder: a lower-case name in braces.
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")

# Chinese is chosen by script; a tag without one implies it by region (BCP 47 "suppress-script"
# practice): Taiwan, Hong Kong and Macau write Traditional characters, everywhere else Simplified.
_TRADITIONAL_REGIONS = frozenset({"TW", "HK", "MO"})
# Languages we serve under another tag: Filipino is the standardized form of Tagalog, and
# Cantonese speakers (Hong Kong, Macau, the diaspora) read Traditional characters.
_SERVED_AS = {"fil": "tl", "yue": "zh-Hant"}


def pick_language(tag: str) -> str:
    """The best language we have for a BCP 47 tag (`zh-HK` → `zh-Hant`), else English."""
    subtags = [s for s in tag.strip().replace("_", "-").split("-") if s]
    if not subtags:
        return DEFAULT_LANGUAGE
    primary = subtags[0].lower()
    script = region = None
    for subtag in subtags[1:]:
        if len(subtag) == 1:  # a singleton starts an extension or private use: stop there
            break
        if len(subtag) == 4 and subtag.isalpha():
            script = script or subtag.title()
        elif (len(subtag) == 2 and subtag.isalpha()) or (len(subtag) == 3 and subtag.isdigit()):
            region = region or subtag.upper()
    if primary == "zh":
        if script == "Hant" or (script is None and region in _TRADITIONAL_REGIONS):
            return "zh-Hant"
        return "zh-Hans"
    primary = _SERVED_AS.get(primary, primary)
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


@functools.cache
def message(language: str, name: str) -> str:
    """The text of message `name` in `language` (one of `LANGUAGES`), placeholders unfilled."""
    if language not in LANGUAGES:
        raise ValueError(f"not a supported language: {language!r}; use pick_language() first")
    if not _NAME.match(name):
        raise ValueError(f"not a message name: {name!r}")
    path = _LOCALES / language / f"{name}.txt"
    if not path.is_file():
        raise LookupError(f"no message {name!r} in {language!r}")
    return path.read_text(encoding="utf-8").strip()


def message_names(language: str) -> frozenset[str]:
    """The messages a language has files for."""
    folder = _LOCALES / language
    return frozenset(
        entry.name.removesuffix(".txt")
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(".txt")
    )


def placeholders(text: str) -> frozenset[str]:
    """The `{name}` placeholders a text uses."""
    return frozenset(PLACEHOLDER.findall(text))


def fill(text: str, values: Mapping[str, str]) -> str:
    """Put values into a message's placeholders.

    Only `{name}` with a lower-case name is a placeholder, so a stray brace a translator types
    stays text instead of breaking the message (as it would with `str.format`).
    """

    def value(match: re.Match[str]) -> str:
        try:
            return values[match.group(1)]
        except KeyError:
            raise KeyError(f"no value for placeholder {match.group(0)}") from None

    return PLACEHOLDER.sub(value, text)


def text_direction(language: str) -> Literal["ltr", "rtl"]:
    """Which way the language is written (for HTML's `dir`)."""
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def request_language(chosen: str | None, accept_language: str) -> str:
    """A page's language: the one chosen (a ?lang= switch), else the browser's first choice
    (browsers list it first; weights are not worth parsing for eight languages)."""
    return pick_language(chosen or accept_language.split(",")[0].split(";")[0])


@functools.cache
def page_text(language: str, page: str) -> dict[str, str]:
    """The strings of web page `page` in `language`, from the message file ``page.<page>``.

    A page file holds one ``key = text`` per line (lines starting with ``#`` are comments), so a
    translator sees a whole page at once; the locale tests hold every language to English's keys
    and placeholders, key by key.
    """
    strings: dict[str, str] = {}
    for number, line in enumerate(message(language, f"page.{page}").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, text = line.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not _KEY.match(key) or not text:
            raise ValueError(f"page.{page} in {language!r}, line {number}: expected key = text")
        if key in strings:
            raise ValueError(f"page.{page} in {language!r}, line {number}: {key!r} twice")
        strings[key] = text
    return strings
