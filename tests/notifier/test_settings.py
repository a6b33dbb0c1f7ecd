"""The notifier refuses to start half-configured, or with development secrets in production."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from services.notifier._settings import NotifierSettings

TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "s3cr3t-auth",
    "TWILIO_FROM_NUMBER": "+15005550006",
}
SENDGRID = {"SENDGRID_API_KEY": "SG.key", "SENDGRID_FROM_EMAIL": "records@example.org"}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*TWILIO, *SENDGRID, "TWILIO_MESSAGING_SERVICE_SID", "VAXREC_NOTIFIER_SANDBOX"):
        monkeypatch.delenv(name, raising=False)


def test_credentials_come_from_the_usual_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**TWILIO, **SENDGRID, "VAXREC_NOTIFIER_SANDBOX": "true"}.items():
        monkeypatch.setenv(name, value)
    settings = NotifierSettings()
    assert settings.twilio_configured
    assert settings.sendgrid_configured
    assert settings.sandbox
    assert settings.twilio_auth_token is not None
    assert settings.twilio_auth_token.get_secret_value() == "s3cr3t-auth"
    assert "s3cr3t" not in repr(settings)


def test_no_credentials_means_the_development_outbox() -> None:
    settings = NotifierSettings()
    assert not settings.twilio_configured
    assert not settings.sendgrid_configured


@pytest.mark.parametrize(
    "values",
    [
        {"TWILIO_ACCOUNT_SID": "AC1"},
        {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"},
        {"SENDGRID_API_KEY": "SG.key"},
        {"provider_timeout_s": 10, "send_lease_s": 5},
    ],
)
def test_half_configured_is_refused(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        NotifierSettings(**values)


def test_a_messaging_service_replaces_the_from_number() -> None:
    values = {**TWILIO, "TWILIO_FROM_NUMBER": None, "TWILIO_MESSAGING_SERVICE_SID": "MG1"}
    assert NotifierSettings(**values).twilio_configured


def test_outside_development_the_contact_key_must_be_set() -> None:
    with pytest.raises(ValidationError, match="contact_hash_key"):
        NotifierSettings(environment="test")
    NotifierSettings(environment="test", contact_hash_key="a-real-secret")


def test_production_refuses_the_outbox_unless_sandboxed() -> None:
    secret = {"contact_hash_key": "a-real-secret"}
    with pytest.raises(ValidationError, match="credentials"):
        NotifierSettings(environment="production", **secret, **TWILIO)
    NotifierSettings(environment="production", **secret, **TWILIO, **SENDGRID)
    NotifierSettings(environment="production", sandbox=True, **secret)
