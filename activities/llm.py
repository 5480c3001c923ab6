"""The orchestrator LLM behind LiteLLM: snippets in, one guarded tip text out.

Errors are translated here, once: the workflow sees only ApplicationError types from
contracts/errors.py and falls back to the composer on any of them. Error messages and logs
never hold the API key, the prompt or the model's reply.
"""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn

import httpx
from pydantic import SecretStr
from temporalio import activity
from temporalio.exceptions import ApplicationError

from agents.guard import check_tip
from agents.orchestrator import ORCHESTRATOR_PROMPT_VERSION, build_messages, parse_reply
from contracts.errors import LLM_BAD_REQUEST, LLM_NOT_CONFIGURED, LLM_REJECTED, LLM_UNAVAILABLE
from contracts.llm import GeneratedTip, GenerateTipTextInput
from contracts.temporal import GENERATE_TIP_TEXT
from core.tracing import span

TIP_MODEL_ALIAS = "tip-generator"
RETRY_AFTER_CAP = timedelta(seconds=30)
CONNECT_TIMEOUT_S = 5.0


def new_http_client(timeout_s: float) -> httpx.AsyncClient:
    """A client for LiteLLM: no system proxy, explicit timeouts."""
    timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S))
    return httpx.AsyncClient(trust_env=False, timeout=timeout)


def retry_delay(header: str | None, *, now: datetime | None = None) -> timedelta | None:
    """A `Retry-After` header (seconds or HTTP date) as a delay in [0, RETRY_AFTER_CAP]."""
    if not header:
        return None
    try:
        seconds = float(header.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(RETRY_AFTER_CAP, timedelta(seconds=max(0.0, seconds)))


def _unavailable(message: str, delay: timedelta | None = None) -> NoReturn:
    raise ApplicationError(message, type=LLM_UNAVAILABLE, next_retry_delay=delay)


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if status == 429:
        _unavailable("LiteLLM rate limited (429)", retry_delay(response.headers.get("retry-after")))
    if status >= 500 or status == 408:
        _unavailable(f"LiteLLM answered {status}")
    if status >= 400:
        raise ApplicationError(
            f"LiteLLM refused the request ({status})", type=LLM_BAD_REQUEST, non_retryable=True
        )


def _rejected(reason: str) -> ApplicationError:
    return ApplicationError(f"tip text rejected: {reason}", type=LLM_REJECTED, non_retryable=True)


def _reply_of(response: httpx.Response) -> tuple[str, str | None]:
    """The first choice's content and the model the proxy reports."""
    try:
        body: Any = response.json()
        content = body["choices"][0]["message"]["content"]
    except (ValueError, LookupError, TypeError) as exc:
        raise _rejected("malformed response") from exc
    if not isinstance(content, str):
        raise _rejected("malformed response")
    model = body.get("model")
    return content, model if isinstance(model, str) and model else None


class LlmActivities:
    """Calls to the `tip-generator` alias; run on the `oo-llm` task queue."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str | None,
        api_key: SecretStr | None,
        timeout_s: float,
        max_tokens: int,
        temperature: float,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/") if base_url else None
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._max_tokens = max_tokens
        self._temperature = temperature

    def _headers(self) -> dict[str, str]:
        key = self._api_key.get_secret_value() if self._api_key else ""
        return {"Authorization": f"Bearer {key}"} if key else {}

    async def _post(self, base_url: str, messages: list[dict[str, str]]) -> httpx.Response:
        body = {
            "model": TIP_MODEL_ALIAS,
            "messages": messages,
            "temperature": self._temperature,
            "max_tokens": self._max_tokens,
        }
        try:
            # httpx bounds each phase; the outer deadline bounds the whole exchange.
            async with asyncio.timeout(self._timeout_s):
                return await self._http.post(
                    f"{base_url}/v1/chat/completions",
                    json=body,
                    headers=self._headers(),
                    timeout=httpx.Timeout(self._timeout_s),
                )
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise ApplicationError(
                f"LiteLLM did not answer within {self._timeout_s:g} s", type=LLM_UNAVAILABLE
            ) from exc
        except httpx.TransportError as exc:
            # The class name only: transport messages may quote the request.
            raise ApplicationError(
                f"LiteLLM unreachable ({type(exc).__name__})", type=LLM_UNAVAILABLE
            ) from exc

    @activity.defn(name=GENERATE_TIP_TEXT)
    async def generate_tip_text(self, inp: GenerateTipTextInput) -> GeneratedTip:
        """One tip from the live snippets, written by the LLM and accepted by the guard."""
        if not self._base_url:
            raise ApplicationError(
                "LiteLLM is not configured", type=LLM_NOT_CONFIGURED, non_retryable=True
            )
        snippets = [s for s in inp.snippets if s.expires_at > inp.as_of]
        # A failure is recorded on the span as its error type (LlmUnavailable, LlmRejected...).
        with span("llm.generate_tip_text", model=TIP_MODEL_ALIAS, snippets=len(snippets)) as traced:
            started = time.perf_counter()
            response = await self._post(self._base_url, build_messages(snippets, inp.local_time))
            latency_ms = round((time.perf_counter() - started) * 1000)
            traced.set(latency_ms=latency_ms, http_status=response.status_code)
            _check_status(response)
            content, model = _reply_of(response)
            reply = parse_reply(content, snippets)
            secrets = [self._api_key.get_secret_value()] if self._api_key else []
            verdict = check_tip(reply.text, secrets=secrets)
            traced.set(guard=verdict.reason or "ok", served_model=model)
            if not verdict.ok:
                activity.logger.warning("LLM tip rejected by the guard: %s", verdict.reason)
                raise _rejected(verdict.reason or "guard")
            traced.set(outcome="ok", agent_ids=reply.agent_ids)
        return GeneratedTip(
            text=verdict.text,
            kind=reply.kind,
            agent_ids=reply.agent_ids,
            model=model or TIP_MODEL_ALIAS,
            prompt_version=ORCHESTRATOR_PROMPT_VERSION,
            latency_ms=latency_ms,
        )
