"""SMS through Twilio's Messages API with the SDK's asyncio interface.

`messages.create_async` awaits the client's `http_client`, so the event loop never waits on a
socket and the number of sends in flight is bounded by the broker prefetch alone. The SDK
builds the request (URL, form fields, credentials) and turns answers into instances and
exceptions; the transport under it is ours rather than `AsyncTwilioHttpClient`, which opens
a session of its own, passes no timeout to aiohttp (a hung connection would wait forever) and
authenticates with `aiohttp.BasicAuth`, deprecated since aiohttp 3.14. Ours uses the
notifier's pooled session and puts a deadline on every call.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import Mapping
from typing import Any

import aiohttp
from twilio.base.exceptions import (  # type: ignore[import-untyped]
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http import AsyncHttpClient  # type: ignore[import-untyped]
from twilio.http.response import Response  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from services.notifier._providers import (
    Outgoing,
    PermanentSendError,
    RecipientRejectedError,
    SendError,
    TransientSendError,
)
from services.notifier._settings import NotifierSettings

#: Twilio errors that are about the recipient, not about us: 21211 invalid 'To' number,
#: 21610 the recipient replied STOP, 21612 no route to that number, 21614 not a mobile number.
RECIPIENT_ERRORS = frozenset({21211, 21610, 21612, 21614})

_SDK_LOG = logging.getLogger("services.notifier.twilio_sdk")
_NOT_DIGITS = re.compile(r"[^\d]")


def classify(status: int, code: int | None) -> SendError:
    """The send error for a Twilio error answer."""
    label = f"twilio-{code}" if code else f"http-{status}"
    if status == 429 or status >= 500:
        return TransientSendError(label)
    if code in RECIPIENT_ERRORS:
        return RecipientRejectedError(label)
    return PermanentSendError(label)


def e164(address: str) -> str:
    """A phone number as Twilio wants it: `+` and digits, without spaces or punctuation.

    A number without its `+` is passed on as digits, never given a guessed country code:
    Twilio then refuses it as invalid, and the delivery says so.
    """
    digits = _NOT_DIGITS.sub("", address)
    return f"+{digits}" if address.strip().startswith("+") else digits


class SessionTransport(AsyncHttpClient):  # type: ignore[misc]  # the SDK is untyped
    """The SDK's asynchronous HTTP client, on a session the caller owns and closes."""

    def __init__(self, session: aiohttp.ClientSession, timeout_s: float) -> None:
        super().__init__(_SDK_LOG, is_async=True, timeout=timeout_s)
        self._session = session

    async def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the SDK passes it by this name
        allow_redirects: bool = False,
    ) -> Response:
        """Send one request for the SDK and hand back its answer."""
        sent_headers = dict(headers or {})
        if auth is not None:
            credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            sent_headers["Authorization"] = f"Basic {credentials}"
        async with self._session.request(
            method,
            url,
            params=params,
            data=data,
            headers=sent_headers,
            allow_redirects=allow_redirects,
            timeout=aiohttp.ClientTimeout(total=timeout or self.timeout),
        ) as response:
            return Response(response.status, await response.text(), response.headers)


class TwilioSms:
    """Sends SMS with the Twilio SDK."""

    name = "twilio"

    def __init__(self, settings: NotifierSettings, session: aiohttp.ClientSession) -> None:
        assert settings.twilio_account_sid is not None
        assert settings.twilio_auth_token is not None
        self._client: Any = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            http_client=SessionTransport(session, settings.provider_timeout_s),
        )
        if settings.twilio_api_base:
            self._client.api.base_url = settings.twilio_api_base
            # An edge or region from the environment would rewrite the host we just set.
            self._client.edge = self._client.region = None
        self._sender: dict[str, str] = {}
        if settings.twilio_messaging_service_sid:
            self._sender["messaging_service_sid"] = settings.twilio_messaging_service_sid
        if settings.twilio_from_number:
            self._sender["from_"] = settings.twilio_from_number
        if settings.twilio_status_callback_url:
            self._sender["status_callback"] = settings.twilio_status_callback_url
        self._timeout = settings.provider_timeout_s

    async def send(self, outgoing: Outgoing) -> str:
        try:
            # Also bounds the SDK's own work, not only the socket wait.
            async with asyncio.timeout(self._timeout):
                created = await self._client.messages.create_async(
                    to=e164(outgoing.to), body=outgoing.message.text, **self._sender
                )
        # `from None` everywhere: Twilio's error text quotes the phone number, and the broker
        # logs a failed handler's traceback.
        except (TwilioRestException, TwilioServiceException) as exc:
            raise classify(int(exc.status), exc.code) from None
        except TimeoutError:
            raise TransientSendError("timeout") from None
        except aiohttp.ClientError:
            raise TransientSendError("connection") from None
        return str(created.sid)
