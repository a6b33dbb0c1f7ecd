"""Email through SendGrid's v3 mail send: the request built by the SDK, sent asynchronously.

The SDK's value is its `Mail` model: it builds the v3 JSON (personalizations, from, subject,
text/plain before text/html, tracking settings) and that is what we use. Its transport is not:
`SendGridAPIClient.send` is a blocking urllib call with no timeout by default, a new
connection (and TLS handshake) per email and a header dict shared between calls. Running it in
a thread pool would add a second concurrency limit beside the broker prefetch and threads
that outlive a timeout. So the SDK's request body goes out on the notifier's aiohttp session:
pooled connections, a deadline that really cancels, and concurrency bounded by the prefetch
alone, as for SMS.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
from sendgrid import __version__ as sendgrid_version
from sendgrid.helpers.mail import (
    ClickTracking,
    From,
    Ganalytics,
    Mail,
    OpenTracking,
    SubscriptionTracking,
    To,
    TrackingSettings,
)

from services.notifier._providers import (
    Outgoing,
    PermanentSendError,
    RecipientRejectedError,
    SendError,
    TransientSendError,
)
from services.notifier._settings import NotifierSettings

DEFAULT_HOST = "https://api.sendgrid.com"


def classify(status: int, body: bytes) -> SendError:
    """The send error for a SendGrid error answer."""
    if status == 429 or status >= 500:
        return TransientSendError(f"http-{status}")
    if status == 400 and _names_the_recipient(body):
        return RecipientRejectedError("sendgrid-recipient")
    return PermanentSendError(f"http-{status}")


def _names_the_recipient(body: bytes) -> bool:
    # SendGrid explains a 400 as {"errors": [{"field": "personalizations.0.to.0.email", ...}]}.
    try:
        errors = json.loads(body).get("errors") or []
    except (ValueError, AttributeError):
        return False
    fields = [str(e.get("field") or "") for e in errors if isinstance(e, dict)]
    return bool(fields) and all(f.startswith("personalizations.") and ".to." in f for f in fields)


class SendGridEmail:
    """Sends email through SendGrid."""

    name = "sendgrid"

    def __init__(self, settings: NotifierSettings, session: aiohttp.ClientSession) -> None:
        assert settings.sendgrid_api_key is not None
        assert settings.sendgrid_from_email is not None
        self._session = session
        self._url = f"{(settings.sendgrid_api_host or DEFAULT_HOST).rstrip('/')}/v3/mail/send"
        self._headers = {
            "Authorization": f"Bearer {settings.sendgrid_api_key.get_secret_value()}",
            "User-Agent": f"vaxrec-notifier sendgrid/{sendgrid_version};python",
        }
        self._from_email = settings.sendgrid_from_email
        self._from_name = settings.sendgrid_from_name
        self._timeout = settings.provider_timeout_s

    def request_body(self, outgoing: Outgoing) -> dict[str, object]:
        """The v3 mail-send JSON for one message, as the SDK builds it."""
        message = outgoing.message
        # Set, not passed: the SDK would parse "Name <address>" out of a lone string, and the
        # address must go out exactly as the resident gave it.
        to = To()
        to.email = outgoing.to
        mail = Mail(
            from_email=From(self._from_email, self._from_name),
            to_emails=to,
            subject=message.subject,
            plain_text_content=message.text,
            html_content=message.html,
        )
        # Click tracking would send the link, token and all, through SendGrid's redirector;
        # open tracking adds a remote image. Both off whatever the account's defaults are.
        mail.tracking_settings = TrackingSettings(
            click_tracking=ClickTracking(enable=False, enable_text=False),
            open_tracking=OpenTracking(enable=False),
            subscription_tracking=SubscriptionTracking(enable=False),
            ganalytics=Ganalytics(enable=False),
        )
        body: dict[str, object] = mail.get()
        return body

    async def send(self, outgoing: Outgoing) -> str:
        body = self.request_body(outgoing)
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._session.post(self._url, json=body, headers=self._headers) as response,
            ):
                if 200 <= response.status < 300:
                    return response.headers.get("X-Message-Id", "")
                error = classify(response.status, await response.read())
        except TimeoutError:
            raise TransientSendError("timeout") from None
        except aiohttp.ClientError:
            raise TransientSendError("connection") from None
        raise error
