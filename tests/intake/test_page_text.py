"""The web pages' strings (`page.*` files): every language has every string English has, with the
same placeholders, key by key."""

from __future__ import annotations

import pytest

from vaxrec import i18n

PAGES = ("intake", "viewer", "verify")


def test_the_page_files_are_the_ones_the_services_use() -> None:
    assert {f"page.{page}" for page in PAGES} == {
        name for name in i18n.message_names("en") if name.startswith("page.")
    }


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_string_and_placeholder_in_every_language(language: str, page: str) -> None:
    english = i18n.page_text("en", page)
    text = i18n.page_text(language, page)
    assert text.keys() == english.keys(), (language, page)
    for key, value in text.items():
        assert i18n.placeholders(value) == i18n.placeholders(english[key]), (language, key)
        assert value.count("{") == value.count("}") == len(i18n.PLACEHOLDER.findall(value))


def test_unknown_pages_fail_and_every_language_has_its_own_name() -> None:
    with pytest.raises(LookupError):
        i18n.page_text("en", "nonexistent")
    assert i18n.AUTONYMS.keys() == set(i18n.LANGUAGES)
