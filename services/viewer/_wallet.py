"""Links that hand the card to a phone's wallet: Apple Health, and Google Wallet when configured.

Apple Health takes the QR's numeric part (the text after `shc:/`) right after
`https://redirect.health.apple.com/SMARTHealthCard/`, the form the issue names and a state
registry's production portal (California's DCVR) used; Apple's redirect hands it to the Health
app. The resident chooses to send it, as with any wallet.

Google Wallet takes a "save" link carrying a JWT signed with the issuer's Google Cloud service
account key (RS256): a generic pass whose barcode is the card's `shc:/` QR text. Without that
account there is no button at all, rather than one that fails.
"""

from __future__ import annotations

import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APPLE_HEALTH = "https://redirect.health.apple.com/SMARTHealthCard/"
GOOGLE_SAVE = "https://pay.google.com/gp/v/save/"


def apple_health_link(qr_text: str) -> str:
    """The "Add to Apple Health" address for a card's single-QR `shc:/<digits>` text."""
    return APPLE_HEALTH + qr_text.removeprefix("shc:/")


class GoogleWalletSettings(BaseSettings):
    """The Google Wallet issuer account, read from its own unprefixed variables."""

    model_config = SettingsConfigDict(extra="ignore")

    issuer_id: str | None = Field(default=None, validation_alias="GOOGLE_WALLET_ISSUER_ID")
    service_account_email: str | None = Field(
        default=None, validation_alias="GOOGLE_WALLET_SERVICE_ACCOUNT_EMAIL"
    )
    #: The service account's private key, PEM.
    private_key: SecretStr | None = Field(
        default=None, validation_alias="GOOGLE_WALLET_PRIVATE_KEY"
    )
    class_suffix: str = Field(
        default="vaccination-record", validation_alias="GOOGLE_WALLET_CLASS_SUFFIX"
    )

    @model_validator(mode="after")
    def _all_or_nothing(self) -> GoogleWalletSettings:
        given = [self.issuer_id, self.service_account_email, self.private_key]
        if any(v is not None for v in given) and not all(v is not None for v in given):
            raise ValueError(
                "GOOGLE_WALLET_ISSUER_ID, GOOGLE_WALLET_SERVICE_ACCOUNT_EMAIL and "
                "GOOGLE_WALLET_PRIVATE_KEY go together"
            )
        return self

    @property
    def configured(self) -> bool:
        return self.private_key is not None


class GoogleWallet:
    """Signs save links for one issuer account."""

    def __init__(self, settings: GoogleWalletSettings) -> None:
        if settings.private_key is None:
            raise ValueError("Google Wallet is not configured")
        self._settings = settings
        self._key = RSAKey.import_key(settings.private_key.get_secret_value())

    def claims(
        self, card_id: str, qr_text: str, language: str, title: str, origin: str
    ) -> dict[str, Any]:
        issuer_id = self._settings.issuer_id
        pass_object = {
            # One pass per card: saving the same card twice updates it instead of duplicating.
            "id": f"{issuer_id}.{card_id}",
            "classId": f"{issuer_id}.{self._settings.class_suffix}",
            "cardTitle": {"defaultValue": {"language": language, "value": title}},
            "header": {"defaultValue": {"language": language, "value": title}},
            "barcode": {"type": "QR_CODE", "value": qr_text, "alternateText": ""},
            "hexBackgroundColor": "#0b4fa8",
        }
        return {
            "iss": self._settings.service_account_email,
            "aud": "google",
            "typ": "savetowallet",
            "iat": int(time.time()),
            "origins": [origin],
            "payload": {"genericObjects": [pass_object]},
        }

    def save_link(self, card_id: str, qr_text: str, language: str, title: str, origin: str) -> str:
        claims = self.claims(card_id, qr_text, language, title, origin)
        return GOOGLE_SAVE + jwt.encode({"alg": "RS256", "typ": "JWT"}, claims, self._key)
