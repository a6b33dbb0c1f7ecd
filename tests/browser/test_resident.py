"""A resident in Chromium: the form, the link from the outbox, the PIN, the record, its QR."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import Image

from tests.browser.conftest import (
    DEMO,
    PHONE_E164,
    artifacts_dir,
    card_by_api,
    check_accessibility,
    expire,
    outbox_count,
    request_by_api,
    wait_for_link,
)
from tests.support.stack import Stack
from vaxrec.i18n import fill, page_text


def _intake(language: str) -> dict[str, str]:
    return page_text(language, "intake")


def _viewer(language: str) -> dict[str, str]:
    return page_text(language, "viewer")


def _fill_form(page: Any, language: str, pin: str = "4829") -> None:
    t = _intake(language)
    page.get_by_label(t["first_name"]).fill(DEMO["first_name"])
    page.get_by_label(t["last_name"]).fill(DEMO["last_name"])
    page.get_by_label(t["date_of_birth"]).fill(DEMO["date_of_birth"])
    page.get_by_label(t["contact_sms"]).check()
    page.get_by_label(t["phone"]).fill(DEMO["phone"])
    page.get_by_label(t["pin"], exact=True).fill(pin)
    page.get_by_label(t["consent"]).check()


def _open_record(page: Any, stack: Stack, link: str, language: str, name: str) -> None:
    page.goto(link)
    assert page.locator("html").get_attribute("lang") == language
    check_accessibility(page, f"{name}-pin")
    page.get_by_label(_viewer(language)["pin"], exact=True).fill("4829")
    page.get_by_role("button", name=_viewer(language)["pin_submit"]).click()
    page.locator("figure.qr svg").wait_for()
    check_accessibility(page, f"{name}-record")


def test_whole_flow_in_english(page: Any, stack: Stack) -> None:
    t = _intake("en")
    page.goto(f"{stack.url('intake')}/?lang=en")
    check_accessibility(page, "en-form")
    # The PIN rules are on the page before anything is typed.
    assert page.get_by_text(t["pin_rules"]).is_visible()
    assert page.get_by_text(t["families"]).first.is_visible()
    seen = outbox_count(stack, PHONE_E164)
    _fill_form(page, "en")
    page.get_by_role("button", name=t["submit"]).click()
    page.get_by_role("heading", name=t["received_title"]).wait_for()
    check_accessibility(page, "en-received")

    link = wait_for_link(stack, PHONE_E164, seen)
    _open_record(page, stack, link, "en", "en")
    v = _viewer("en")
    card = card_by_api(stack, link)
    rows = page.locator("table tbody tr").all_inner_texts()
    assert len(rows) == len(card["doses"])
    for row, dose in zip(rows, card["doses"], strict=True):
        assert dose["date"] in row
        assert dose["vaccine"] in row
        assert (dose["lot"] or "") in row
    caption = fill(v["qr_caption"], {"issuer": "vaxrec demonstration issuer"})
    assert page.get_by_text(caption).is_visible()
    apple = page.get_by_role("link", name=v["apple"]).get_attribute("href")
    digits = card["qr"].removeprefix("shc:/")
    assert apple == "https://redirect.health.apple.com/SMARTHealthCard/" + digits
    # No Google account is configured for this stack: no Google Wallet button.
    assert page.get_by_role("link", name=v["google"]).count() == 0
    assert page.get_by_role("button", name=v["print"]).is_visible()

    # The QR as the resident's screen shows it decodes to the card's shc:/ text.
    shot = artifacts_dir() / "en-record-qr.png"
    page.locator("figure.qr svg").screenshot(path=shot)
    decoded = zxingcpp.read_barcodes(Image.open(shot).convert("L"))
    assert [b.text for b in decoded] == [card["qr"]]

    # The file download is the card, whole.
    with page.expect_download() as info:
        page.get_by_role("link", name=v["download_file"]).click()
    download = info.value
    path = artifacts_dir() / download.suggested_filename
    download.save_as(path)
    assert path.name.endswith(".smart-health-card")
    assert json.loads(path.read_text())["verifiableCredential"][0].count(".") == 2

    # Printed, the record fits on one page.
    page.emulate_media(media="print")
    pdf = page.pdf(format="Letter")
    (artifacts_dir() / "en-record.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1


def test_whole_flow_in_arabic_right_to_left(page: Any, stack: Stack) -> None:
    t = _intake("ar")
    page.goto(f"{stack.url('intake')}/?lang=en")
    page.get_by_role("link", name="العربية").click()
    page.get_by_role("button", name=t["submit"]).wait_for()
    assert page.locator("html").get_attribute("dir") == "rtl"
    check_accessibility(page, "ar-form")
    seen = outbox_count(stack, PHONE_E164)
    _fill_form(page, "ar")
    page.get_by_role("button", name=t["submit"]).click()
    page.get_by_role("heading", name=t["received_title"]).wait_for()
    assert page.locator("html").get_attribute("dir") == "rtl"
    check_accessibility(page, "ar-received")
    link = wait_for_link(stack, PHONE_E164, seen)
    # The link carries no language: the card remembers the one the form was sent in.
    _open_record(page, stack, link, "ar", "ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.get_by_role("columnheader", name=_viewer("ar")["vaccine"]).is_visible()


def test_errors_are_shown_beside_fields_in_the_page(page: Any, stack: Stack) -> None:
    t = _intake("es")
    page.goto(f"{stack.url('intake')}/?lang=es")
    page.get_by_label(t["pin"], exact=True).fill("1234")
    page.get_by_label(t["first_name"]).focus()
    pin_error = page.locator("#pin-error")
    assert pin_error.text_content() == t["err_pin_ascending"]
    assert page.get_by_label(t["pin"], exact=True).get_attribute("aria-invalid") == "true"
    page.get_by_role("button", name=t["submit"]).click()
    # Checked in the page: nothing was posted, the summary has focus and lists each problem.
    assert page.url.endswith("/?lang=es")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#first_name-error").text_content() == t["err_first_name"]
    check_accessibility(page, "es-form-errors")


def test_switching_language_keeps_what_was_typed(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.url('intake')}/?lang=en")
    _fill_form(page, "en")
    # The script posts the form to show it again in the language chosen; nothing is sent.
    page.get_by_role("link", name="Tiếng Việt").click()
    t = _intake("vi")
    page.get_by_role("button", name=t["submit"]).wait_for()
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_label(t["first_name"]).input_value() == DEMO["first_name"]
    assert page.get_by_label(t["date_of_birth"]).input_value() == DEMO["date_of_birth"]
    assert page.get_by_label(t["phone"]).input_value() == DEMO["phone"]
    assert page.get_by_label(t["consent"]).is_checked()
    assert page.get_by_label(t["pin"], exact=True).input_value() == ""  # never sent back
    assert page.locator("#error-summary").is_hidden()
    check_accessibility(page, "vi-form-switched")
    seen = outbox_count(stack, PHONE_E164)
    page.get_by_label(t["pin"], exact=True).fill("4829")
    page.get_by_role("button", name=t["submit"]).click()
    page.get_by_role("heading", name=t["received_title"]).wait_for()
    assert wait_for_link(stack, PHONE_E164, seen)


def test_keyboard_only(page: Any, stack: Stack) -> None:
    t = _intake("en")
    page.goto(f"{stack.url('intake')}/?lang=en")
    seen = outbox_count(stack, PHONE_E164)

    def tab_to(element_id: str, limit: int = 15) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == element_id:
                return
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("first_name")
    page.keyboard.type("John")
    tab_to("last_name", 1)
    page.keyboard.type("Doe")
    tab_to("date_of_birth", 1)
    page.keyboard.type("08151951")  # the date field's segments: mm dd yyyy in en-US
    assert page.locator("#date_of_birth").input_value() == "1951-08-15"
    tab_to("contact-sms", 3)
    page.keyboard.press("Space")
    tab_to("phone", 1)
    page.keyboard.type("+1 213 555 0100")
    tab_to("pin", 1)  # the email field is hidden while text message is chosen
    page.keyboard.type("4829")
    tab_to("consent", 1)
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=t["received_title"]).wait_for()
    assert wait_for_link(stack, PHONE_E164, seen)


def test_wrong_pin_then_lockout(page: Any, stack: Stack) -> None:
    link = request_by_api(stack, language="ko")
    v = _viewer("ko")
    page.goto(link)
    for tries_left in (4, 3, 2, 1):
        page.get_by_label(v["pin"], exact=True).fill("0000")
        page.get_by_role("button", name=v["pin_submit"]).click()
        expected = (
            v["err_pin_last"]
            if tries_left == 1
            else fill(v["err_pin_wrong"], {"tries": str(tries_left)})
        )
        page.get_by_text(expected).wait_for()
        if tries_left == 4:
            check_accessibility(page, "ko-wrong-pin")
    page.get_by_label(v["pin"], exact=True).fill("0000")
    page.get_by_role("button", name=v["pin_submit"]).click()
    page.get_by_text(v["locked"]).wait_for()
    assert page.get_by_text(v["request_again"]).is_visible()
    check_accessibility(page, "ko-locked")
    # The right PIN no longer opens it.
    page.goto(link)
    assert page.get_by_text(v["locked"]).is_visible()
    assert page.get_by_label(v["pin"], exact=True).count() == 0


def test_expired_link(page: Any, stack: Stack) -> None:
    link = request_by_api(stack, language="zh-Hant")
    expire(stack, link)
    page.goto(link)
    v = _viewer("zh-Hant")
    page.get_by_text(v["expired"]).wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    check_accessibility(page, "zh-Hant-expired")


def test_screenshots_are_kept(stack: Stack) -> None:
    kept = {p.name for p in Path(artifacts_dir()).glob("*.png")}
    assert kept  # the tests above left their pictures where CI collects them


def test_verifier_page_in_arabic(page: Any, stack: Stack) -> None:
    card = card_by_api(stack, request_by_api(stack))
    t = page_text("ar", "verify")
    page.goto(f"{stack.url('viewer')}/verify?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    check_accessibility(page, "ar-verify")
    page.get_by_label(t["text_label"]).fill(card["qr"])
    page.get_by_role("button", name=t["submit"]).click()
    page.get_by_role("heading", name=t["valid_title"]).wait_for()
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.get_by_role("columnheader", name=t["vaccine"]).is_visible()
    check_accessibility(page, "ar-verify-valid")
