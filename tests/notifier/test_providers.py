"""The Twilio and SendGrid adapters, through the real SDKs, against the local fakes."""

from __future__ import annotations

import uuid

import aiohttp
import pytest
import structlog

from services.notifier._messages import render
from services.notifier._providers import (
    Outgoing,
    PermanentSendError,
    RecipientRejectedError,
    SandboxProvider,
    SendError,
    TransientSendError,
)
from services.notifier._sendgrid import SendGridEmail
from services.notifier._twilio import TwilioSms
from tests.notifier.conftest import BASE_URL, settings_for
from tests.notifier.fakes import FakeSendGrid, FakeTwilio
from tests.support.stack import free_port

PHONE = "+1 (213) 555-0142"
EMAIL = "resident-0142@example.net"
LINK = f"{BASE_URL}/c/{'T' * 43}"


def sms(to: str = PHONE, language: str = "en") -> Outgoing:
    message = render("card_issued", "sms", language, {"link": LINK, "hours": "24"})
    return Outgoing(uuid.uuid4(), "sms", to, message)


def email(to: str = EMAIL, language: str = "en") -> Outgoing:
    message = render("card_issued", "email", language, {"link": LINK, "hours": "24"})
    return Outgoing(uuid.uuid4(), "email", to, message)


def assert_no_personal_data(exc: BaseException) -> None:
    text = f"{exc!r} {exc}"
    for secret in ("213", "0142", "example.net", LINK):
        assert secret not in text
    # The chained SDK error (whose text quotes the number) is not shown in a traceback.
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__


async def test_twilio_sends_with_the_from_number(
    fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> None:
    provider = TwilioSms(settings_for(fake_twilio), session)
    outgoing = sms(language="zh-TW")
    sid = await provider.send(outgoing)
    [request] = fake_twilio.received
    assert sid == request.message_id
    assert sid.startswith("SM")
    assert request.fields == {
        "To": "+12135550142",
        "From": FakeTwilio.FROM_NUMBER,
        "Body": outgoing.message.text,
    }
    assert outgoing.message.language == "zh-Hant"


async def test_twilio_sends_through_a_messaging_service_with_status_callback(
    fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> None:
    settings = settings_for(
        fake_twilio,
        twilio_from_number=None,
        twilio_messaging_service_sid=FakeTwilio.MESSAGING_SERVICE_SID,
        twilio_status_callback_url="https://notify.example.org/twilio/status",
    )
    await TwilioSms(settings, session).send(sms())
    [request] = fake_twilio.received
    assert "From" not in request.fields
    assert request.fields["MessagingServiceSid"] == FakeTwilio.MESSAGING_SERVICE_SID
    assert request.fields["StatusCallback"] == "https://notify.example.org/twilio/status"
    assert request.accepted


@pytest.mark.parametrize(
    ("answer", "error", "code"),
    [
        ("429", TransientSendError, "twilio-20429"),
        ("500", TransientSendError, "twilio-20500"),
        ("slow", TransientSendError, "timeout"),
        ("21211", RecipientRejectedError, "twilio-21211"),
        ("21610", RecipientRejectedError, "twilio-21610"),
        ("21614", RecipientRejectedError, "twilio-21614"),
    ],
)
async def test_twilio_errors_are_classified(
    fake_twilio: FakeTwilio,
    session: aiohttp.ClientSession,
    answer: str,
    error: type[SendError],
    code: str,
) -> None:
    fake_twilio.answer(answer)
    with pytest.raises(error) as raised:
        await TwilioSms(settings_for(fake_twilio, provider_timeout_s=0.3), session).send(sms())
    assert type(raised.value) is error
    assert raised.value.code == code
    assert_no_personal_data(raised.value)


async def test_twilio_wrong_credentials_are_permanent_but_not_the_recipients_fault(
    fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> None:
    settings = settings_for(fake_twilio, twilio_auth_token="rotated-token")
    with pytest.raises(PermanentSendError) as raised:
        await TwilioSms(settings, session).send(sms())
    assert not isinstance(raised.value, RecipientRejectedError)
    assert raised.value.code == "twilio-20003"


async def test_twilio_rejects_a_number_that_is_not_e164(
    fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(RecipientRejectedError):
        await TwilioSms(settings_for(fake_twilio), session).send(sms(to="555-0142"))


async def test_twilio_unreachable_is_transient(
    fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> None:
    settings = settings_for(fake_twilio, twilio_api_base=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TransientSendError) as raised:
        await TwilioSms(settings, session).send(sms())
    assert raised.value.code == "connection"


async def test_sendgrid_sends_text_and_html_without_tracking(
    fake_sendgrid: FakeSendGrid, session: aiohttp.ClientSession
) -> None:
    outgoing = email(language="ar")
    message_id = await SendGridEmail(settings_for(fake_sendgrid), session).send(outgoing)
    [request] = fake_sendgrid.received
    assert message_id == request.message_id
    mail = request.fields
    assert mail["personalizations"] == [{"to": [{"email": EMAIL}]}]
    assert mail["from"] == {"email": FakeSendGrid.FROM_EMAIL}
    assert mail["subject"] == outgoing.message.subject
    assert mail["content"] == [
        {"type": "text/plain", "value": outgoing.message.text},
        {"type": "text/html", "value": outgoing.message.html},
    ]
    tracking = mail["tracking_settings"]
    assert not any(setting["enable"] for setting in tracking.values())
    assert tracking["click_tracking"]["enable_text"] is False


async def test_sendgrid_from_name(
    fake_sendgrid: FakeSendGrid, session: aiohttp.ClientSession
) -> None:
    settings = settings_for(fake_sendgrid, sendgrid_from_name="Vaccination Records")
    await SendGridEmail(settings, session).send(email())
    assert fake_sendgrid.received[0].fields["from"] == {
        "email": FakeSendGrid.FROM_EMAIL,
        "name": "Vaccination Records",
    }


@pytest.mark.parametrize(
    ("answer", "to", "error", "code"),
    [
        ("429", EMAIL, TransientSendError, "http-429"),
        ("500", EMAIL, TransientSendError, "http-500"),
        ("slow", EMAIL, TransientSendError, "timeout"),
        ("ok", "not-an-address", RecipientRejectedError, "sendgrid-recipient"),
    ],
)
async def test_sendgrid_errors_are_classified(
    fake_sendgrid: FakeSendGrid,
    session: aiohttp.ClientSession,
    answer: str,
    to: str,
    error: type[SendError],
    code: str,
) -> None:
    fake_sendgrid.answer(answer)
    settings = settings_for(fake_sendgrid, provider_timeout_s=0.3)
    with pytest.raises(error) as raised:
        await SendGridEmail(settings, session).send(email(to=to))
    assert type(raised.value) is error
    assert raised.value.code == code
    assert_no_personal_data(raised.value)


async def test_sendgrid_wrong_key_is_permanent_but_not_the_recipients_fault(
    fake_sendgrid: FakeSendGrid, session: aiohttp.ClientSession
) -> None:
    settings = settings_for(fake_sendgrid, sendgrid_api_key="SG.revoked.key")
    with pytest.raises(PermanentSendError) as raised:
        await SendGridEmail(settings, session).send(email())
    assert not isinstance(raised.value, RecipientRejectedError)
    assert raised.value.code == "http-401"


async def test_sandbox_logs_lengths_and_never_the_message_or_contact() -> None:
    provider = SandboxProvider()
    with structlog.testing.capture_logs() as logs:
        text_id = await provider.send(sms(language="ko"))
        mail_id = await provider.send(email(language="es"))
    assert text_id.startswith("sandbox-")
    assert mail_id.startswith("sandbox-")
    assert [entry["channel"] for entry in logs] == ["sms", "email"]
    assert logs[0]["segments"] == 3
    assert logs[0]["encoding"] == "UCS-2"
    assert logs[0]["language"] == "ko"
    assert logs[1]["language"] == "es"
    assert logs[1]["html_chars"] > logs[1]["text_chars"] > 0
    flat = repr(logs)
    for secret in ("213", "0142", "example.net", "T" * 43, "records.example.org"):
        assert secret not in flat
