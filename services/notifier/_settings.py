"""Notifier settings: one class, read once in main() and passed down."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from vaxrec.settings import RuntimeSettings

#: The contact-hash key that ships with the code; refused outside development.
DEVELOPMENT_CONTACT_KEY = "dev-contact-key-not-secret"


class NotifierSettings(RuntimeSettings):
    """Everything the notifier reads from the environment.

    Twilio and SendGrid are read from their usual unprefixed variables (TWILIO_ACCOUNT_SID,
    SENDGRID_API_KEY, ...). A channel with no credentials uses the development outbox.
    """

    # Tests and callers may pass fields by name even where the environment uses an alias.
    model_config = SettingsConfigDict(validate_by_name=True)

    port: int = Field(default=8093, validation_alias="VAXREC_NOTIFIER_PORT")
    #: The base of the links residents receive: <viewer_public_url>/c/<token>.
    viewer_public_url: str = "http://127.0.0.1:8081"
    #: Where the not-found message sends people: a phone number or web address, because the same
    #: value goes into every language.
    help_contact: str = "1-800-555-0199"

    twilio_account_sid: str | None = Field(default=None, validation_alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr | None = Field(default=None, validation_alias="TWILIO_AUTH_TOKEN")
    twilio_from_number: str | None = Field(default=None, validation_alias="TWILIO_FROM_NUMBER")
    twilio_messaging_service_sid: str | None = Field(
        default=None, validation_alias="TWILIO_MESSAGING_SERVICE_SID"
    )
    #: Replaces https://api.twilio.com (tests point it at a local fake).
    twilio_api_base: str | None = Field(default=None, validation_alias="TWILIO_API_BASE")
    #: The public address of POST /twilio/status; when set, Twilio reports delivery there.
    twilio_status_callback_url: str | None = Field(
        default=None, validation_alias="TWILIO_STATUS_CALLBACK_URL"
    )
    sendgrid_api_key: SecretStr | None = Field(default=None, validation_alias="SENDGRID_API_KEY")
    sendgrid_from_email: str | None = Field(default=None, validation_alias="SENDGRID_FROM_EMAIL")
    sendgrid_from_name: str | None = Field(default=None, validation_alias="SENDGRID_FROM_NAME")
    #: Replaces https://api.sendgrid.com (tests point it at a local fake).
    sendgrid_api_host: str | None = Field(default=None, validation_alias="SENDGRID_API_HOST")

    #: Log what would be sent (channel, language, message, lengths) and send nothing.
    sandbox: bool = Field(default=False, validation_alias="VAXREC_NOTIFIER_SANDBOX")
    #: One provider call may take this long before it counts as a transient failure.
    provider_timeout_s: float = Field(default=10.0, gt=0, le=120)
    #: A delivery marked in flight more recently than this belongs to a live attempt elsewhere
    #: (another replica, or this one before a broker reconnect); after it, the attempt is taken
    #: to have died with its process and the message is sent again.
    send_lease_s: float = Field(default=30.0, gt=0)
    #: At most this many messages to one phone or email address per window.
    contact_limit: int = Field(default=5, ge=1)
    contact_window_s: int = Field(default=3600, ge=1)
    #: Key of the HMAC that turns a contact into the rate-limit key the database stores.
    contact_hash_key: SecretStr = SecretStr(DEVELOPMENT_CONTACT_KEY)

    @property
    def twilio_configured(self) -> bool:
        return self.twilio_account_sid is not None

    @property
    def sendgrid_configured(self) -> bool:
        return self.sendgrid_api_key is not None

    @model_validator(mode="after")
    def _complete_and_safe(self) -> NotifierSettings:
        if self.twilio_configured and (
            self.twilio_auth_token is None
            or (self.twilio_from_number is None and self.twilio_messaging_service_sid is None)
        ):
            raise ValueError(
                "TWILIO_ACCOUNT_SID needs TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER or "
                "TWILIO_MESSAGING_SERVICE_SID"
            )
        if self.sendgrid_configured and not self.sendgrid_from_email:
            raise ValueError("SENDGRID_API_KEY needs SENDGRID_FROM_EMAIL")
        if self.send_lease_s <= self.provider_timeout_s:
            raise ValueError("send_lease_s must be longer than provider_timeout_s")
        if self.environment == "development":
            return self
        if self.contact_hash_key.get_secret_value() == DEVELOPMENT_CONTACT_KEY:
            raise ValueError("contact_hash_key is the development placeholder; set a real secret")
        # The development outbox in production would swallow every message silently.
        configured = self.twilio_configured and self.sendgrid_configured
        if self.environment == "production" and not self.sandbox and not configured:
            raise ValueError("production needs Twilio and SendGrid credentials (or sandbox)")
        return self
