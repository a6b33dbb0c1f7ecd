"""The language files: complete in every language, the right placeholders, SMS within budget."""

from __future__ import annotations

import html.parser
import unicodedata

import pytest

from services.notifier._messages import render
from services.notifier._segments import count_segments
from vaxrec import i18n

#: A link as residents get it: a ~40-character base URL and a 43-character token.
BASE_URL = "https://vaccinerecords.health.example.gov"
LINK = f"{BASE_URL}/c/{'Ab3_-' * 8}xyz"
HELP = "1-800-555-0199"
VALUES = {"link": LINK, "hours": "24", "help": HELP}

#: Languages whose SMS is written in the GSM-7 alphabet (so 153 characters a segment).
GSM7_LANGUAGES = ("en", "es", "tl")
#: Two segments where the language allows it; Korean, Vietnamese and Arabic need 67-character
#: UCS-2 segments and say what they must in three (two would leave ~45 characters beside the link).
MAX_SEGMENTS = {"en": 2, "es": 2, "tl": 2, "zh-Hans": 2, "zh-Hant": 2, "ko": 3, "vi": 3, "ar": 3}


def test_the_link_is_as_long_as_a_real_one() -> None:
    assert len(BASE_URL) == 41
    assert len(LINK) == len(BASE_URL) + len("/c/") + 43


def test_every_language_has_every_message_english_has() -> None:
    english = i18n.message_names("en")
    assert {"card_issued", "card_issued.email", "unmatched", "email.footer"} <= english
    for language in i18n.LANGUAGES:
        assert i18n.message_names(language) == english, language


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_placeholders_match_english(language: str) -> None:
    for name in i18n.message_names("en"):
        text = i18n.message(language, name)
        assert text, (language, name)
        expected = i18n.placeholders(i18n.message("en", name))
        assert i18n.placeholders(text) == expected, (language, name)
        # A brace that is not a placeholder is usually a mistyped one.
        assert text.count("{") == text.count("}") == len(i18n.PLACEHOLDER.findall(text))


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_files_are_composed_unicode(language: str) -> None:
    # Decomposed Vietnamese doubles the characters an SMS counts.
    for name in i18n.message_names(language):
        text = i18n.message(language, name)
        assert unicodedata.is_normalized("NFC", text), (language, name)


def test_sms_segments_per_language() -> None:
    rows = []
    for language in i18n.LANGUAGES:
        for kind in ("card_issued", "unmatched"):
            text = render(kind, "sms", language, VALUES).text
            segments = count_segments(text)
            rows.append((language, kind, segments.encoding, segments.units, segments.count))
    print(f"\nSMS segments (link {len(LINK)} characters, help {HELP!r}):")
    for language, kind, encoding, units, count in rows:
        print(f"  {language:8} {kind:12} {encoding}  {units:4} units  {count} segment(s)")
    assert set(MAX_SEGMENTS) == set(i18n.LANGUAGES)
    for language, kind, encoding, _, count in rows:
        assert (encoding == "GSM-7") == (language in GSM7_LANGUAGES), (language, kind)
        assert count <= MAX_SEGMENTS[language], (language, kind)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("en-US", "en"),
        ("es-MX", "es"),
        ("ES_us", "es"),
        ("zh", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("zh-Hans", "zh-Hans"),
        ("zh-Hans-HK", "zh-Hans"),
        ("zh-TW", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-MO", "zh-Hant"),
        ("zh-Hant", "zh-Hant"),
        ("zh-hant-cn", "zh-Hant"),
        ("yue-HK", "zh-Hant"),
        ("ko-KR", "ko"),
        ("vi", "vi"),
        ("ar-EG", "ar"),
        ("fil", "tl"),
        ("fil-PH", "tl"),
        ("tl", "tl"),
        ("fr-CA", "en"),
        ("pt-BR", "en"),
        ("x-klingon", "en"),
        ("en-x-TW", "en"),
        ("", "en"),
        ("  ", "en"),
    ],
)
def test_pick_language(tag: str, expected: str) -> None:
    assert i18n.pick_language(tag) == expected


def test_message_refuses_unsupported_languages_and_names() -> None:
    with pytest.raises(ValueError, match="pick_language"):
        i18n.message("fr", "card_issued")
    with pytest.raises(ValueError, match="not a message name"):
        i18n.message("en", "../../settings")
    with pytest.raises(LookupError):
        i18n.message("en", "no_such_message")


def test_fill_leaves_stray_braces_and_requires_every_value() -> None:
    assert i18n.fill("{a} {not a placeholder} {B}", {"a": "1"}) == "1 {not a placeholder} {B}"
    with pytest.raises(KeyError, match="link"):
        i18n.fill("see {link}", {})


class _Tags(html.parser.HTMLParser):
    VOID = frozenset({"meta", "br", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.seen: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag


@pytest.mark.parametrize("language", i18n.LANGUAGES)
@pytest.mark.parametrize("kind", ["card_issued", "unmatched"])
def test_email_html_is_self_contained_and_directional(language: str, kind: str) -> None:
    message = render(kind, "email", language, VALUES)  # type: ignore[arg-type]
    assert message.html is not None
    assert message.subject
    parser = _Tags()
    parser.feed(message.html)
    assert parser.open == []
    tags = dict(parser.seen)
    assert tags["html"] == {"lang": language, "dir": "rtl" if language == "ar" else "ltr"}
    # No remote images, scripts, stylesheets or pixels: nothing loads when the email is opened.
    assert not {"img", "script", "link", "iframe", "object"} & {t for t, _ in parser.seen}
    hrefs = [a.get("href") for t, a in parser.seen if t == "a"]
    assert all(a.get("src") is None for _, a in parser.seen)
    assert "url(" not in message.html
    if kind == "card_issued":
        assert hrefs == [LINK]
        assert LINK in message.text
    else:
        assert hrefs == []
        assert HELP in message.text
        assert HELP in message.html
    footer = i18n.message(language, "email.footer")
    assert message.text.endswith(footer)


def test_html_escapes_values() -> None:
    message = render("unmatched", "email", "en", {"help": "<b>A & B</b>"})
    assert message.html is not None
    assert "&lt;b&gt;A &amp; B&lt;/b&gt;" in message.html
    assert "<b>" not in message.html


def test_a_web_address_for_help_becomes_a_link() -> None:
    message = render("unmatched", "email", "en", {"help": "https://help.example.org/vax"})
    assert message.html is not None
    assert '<a href="https://help.example.org/vax">' in message.html
