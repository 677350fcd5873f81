"""Talking to Slack's Web API: clients that honour `Retry-After`, and what errors mean.

The clients retry a 429 after exactly the delay Slack asks for (within a cap, so a
scheduled briefing does not hang for minutes), retry once on a dropped connection, and
map the remaining failures onto the scheduler's policy: a deleted channel or a revoked
token is permanent, a rate limit or a network hiccup is not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.chat.publishing import DeliveryError

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
MAX_RETRY_WAIT = 30.0  # seconds; a longer Retry-After fails fast and the scheduler retries
Sleep = Callable[[float], Awaitable[Any]]

# Slack error codes that no retry will fix, with what to tell the channel's admins.
PERMANENT_ERRORS: dict[str, str] = {
    "channel_not_found": "canal introuvable",
    "not_in_channel": "le bot n'est pas membre du canal (invitez-le avec /invite)",
    "is_archived": "canal archivé",
    "invalid_auth": "jeton Slack invalide",
    "not_authed": "jeton Slack absent",
    "account_inactive": "compte du bot désactivé",
    "token_revoked": "jeton Slack révoqué",
    "token_expired": "jeton Slack expiré",
    "missing_scope": "permission Slack manquante",
    "no_permission": "permission refusée par Slack",
    "restricted_action": "action interdite par les réglages de l'espace",
    "team_access_not_granted": "l'application n'a pas accès à cet espace",
    "ekm_access_denied": "accès refusé par la gestion des clés de l'espace",
}


class RetryAfterHandler(AsyncRetryHandler):
    """Retries a 429 after the `Retry-After` Slack sent, no more, no less (the SDK's own
    handler adds up to a second of jitter). `sleep` is injectable so tests do not wait."""

    def __init__(
        self,
        max_retry_count: int = 3,
        *,
        max_wait: float = MAX_RETRY_WAIT,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.sleep = sleep

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return retry_after(response) <= self.max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        delay = retry_after(response) if response is not None else 1.0
        log.info("Slack rate limit on %s: retrying in %.0f s", _method(request), delay)
        await self.sleep(delay)
        state.increment_current_attempt()


class ConnectionRetryHandler(AsyncConnectionErrorRetryHandler):
    """Retries a dropped connection after a short backoff, through the injectable `sleep`."""

    def __init__(
        self, max_retry_count: int = 1, *, delay: float = 0.5, sleep: Sleep = asyncio.sleep
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.delay = delay
        self.sleep = sleep

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        await self.sleep(self.delay * 2**state.current_attempt)
        state.increment_current_attempt()


def retry_after(response: HttpResponse) -> float:
    """Seconds from the `Retry-After` header (1 s if absent or unreadable)."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) and values else values
            try:
                return max(0.0, float(str(value).strip()))
            except ValueError:
                return 1.0
    return 1.0


def _method(request: HttpRequest) -> str:
    return request.url.rsplit("/", 1)[-1] if request.url else "?"


def retry_handlers(sleep: Sleep = asyncio.sleep) -> list[AsyncRetryHandler]:
    return [RetryAfterHandler(sleep=sleep), ConnectionRetryHandler(sleep=sleep)]


def normalise_api_url(url: str | None) -> str:
    """`SLACK_API_URL` with the trailing slash the SDK needs."""
    url = (url or DEFAULT_API_URL).strip()
    return url if url.endswith("/") else url + "/"


def web_client(
    token: str,
    *,
    api_url: str | None,
    session: aiohttp.ClientSession | None = None,
    sleep: Sleep = asyncio.sleep,
    timeout: int = 15,
) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=normalise_api_url(api_url),
        session=session,
        timeout=timeout,
        retry_handlers=retry_handlers(sleep),
    )


def webhook_client(
    url: str,
    *,
    session: aiohttp.ClientSession | None = None,
    sleep: Sleep = asyncio.sleep,
    timeout: int = 15,
) -> AsyncWebhookClient:
    """A client for one `response_url` (an interaction's private reply channel)."""
    return AsyncWebhookClient(
        url, session=session, timeout=timeout, retry_handlers=retry_handlers(sleep)
    )


def error_code(err: SlackApiError) -> str:
    try:
        return str(err.response.get("error") or "unknown_error")
    except Exception:  # a response without a JSON body
        return "unknown_error"


def delivery_error(err: BaseException) -> DeliveryError:
    """The scheduler's view of a failed post: permanent or worth retrying, and why."""
    if isinstance(err, SlackApiError):
        code = error_code(err)
        if code in PERMANENT_ERRORS:
            return DeliveryError(f"{PERMANENT_ERRORS[code]} ({code})", permanent=True)
        if code == "ratelimited":
            return DeliveryError("limite de débit Slack atteinte (ratelimited)", permanent=False)
        return DeliveryError(f"erreur Slack ({code})", permanent=False)
    if isinstance(err, TimeoutError | asyncio.TimeoutError):
        return DeliveryError(
            "Slack ne répond pas (délai dépassé)", permanent=False, maybe_sent=True
        )
    # A refused connection never carried the request; any other network failure may have
    # happened after Slack accepted it.
    sent = not isinstance(err, aiohttp.ClientConnectorError)
    return DeliveryError(
        f"réseau indisponible ({type(err).__name__})", permanent=False, maybe_sent=sent
    )
