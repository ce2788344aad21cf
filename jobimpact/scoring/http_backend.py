"""Scoring through an OpenAI-compatible HTTP server (vLLM, llama.cpp server, Ollama, hosted APIs).

Every (task, question) pair is one request for a single answer token at temperature 0 with
the top log-probabilities of that token. The prompt is the one a local model sees: the
``chat`` endpoint gets the rubric's system text and user message
(:meth:`~jobimpact.scoring.rubric.Rubric.user_message`), the ``completions`` endpoint the
plain-text layout of :func:`~jobimpact.scoring.engine.build_layout` without a chat template.

P(Yes) is the probability of the top tokens that read as the rubric's Yes word, renormalised
over those that read as Yes or No; ``answer_mass`` is their total probability. A server that
returns no log-probabilities (or none for Yes or No) still answers in text: "Yes" gives
P(Yes) = 1, "No" gives 0, and ``answer_mass`` is NaN, meaning *no distribution, answer read
from the text* (the store keeps it as NULL).

Requests run concurrently on an asyncio event loop, at most ``concurrency`` at a time, and
transient failures (429, 5xx, timeouts, dropped connections, malformed JSON) are retried
with exponential backoff, honouring ``Retry-After``. :meth:`HTTPScorer.score_batch` runs its
own loop with :func:`asyncio.run`; called from a thread whose loop is already running (a
Jupyter cell, an async web app) it runs that loop in a worker thread and blocks the caller
until the batch is done. Async callers can ``await`` :meth:`HTTPScorer.ascore_batch` instead.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from jobimpact import __version__
from jobimpact.errors import ConfigError, ScoringError
from jobimpact.scoring.base import QuestionScore, Scorer, TaskPrompt, TaskScore, register_backend
from jobimpact.scoring.engine import PromptLayout, build_layout
from jobimpact.scoring.rubric import Rubric
from jobimpact.settings import Settings, env_name

__all__ = [
    "TEXT_ANSWER_MASS",
    "HTTPScorer",
    "answer_from_logprobs",
    "answer_from_text",
    "normalise_token",
]

#: ``answer_mass`` of an answer read from the returned text: there was no distribution.
TEXT_ANSWER_MASS = math.nan
#: Longest wait a ``Retry-After`` header can impose, so that a server cannot stall a run.
MAX_RETRY_AFTER_S = 300.0
USER_AGENT = f"jobimpact/{__version__} (task scoring)"

Endpoint = Literal["chat", "completions"]
_PATHS: dict[str, str] = {"chat": "/chat/completions", "completions": "/completions"}
# Leading markers of a word start in byte-level BPE (Ġ) and SentencePiece (▁) vocabularies.
_WORD_START_MARKS = "\u0120\u2581"
_FIRST_WORD = re.compile(r"[^\W_]+")
_ERROR_DETAIL_CHARS = 200
TopTokens = list[tuple[str, float]]


class _Secret:
    """A value kept out of reprs, logs and tracebacks (an API key)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "_Secret('***')" if self.value else "_Secret('')"


class _Transient(Exception):
    """A failed attempt worth repeating: what came back, what was expected, when to retry."""

    def __init__(self, got: str, expected: str, *, retry_after: float | None = None) -> None:
        super().__init__(got)
        self.got, self.expected, self.retry_after = got, expected, retry_after


@dataclass(frozen=True, slots=True)
class _Request:
    """One (task, question) request and where it sits in the batch."""

    index: int
    item: TaskPrompt
    key: str
    payload: dict[str, Any]

    @property
    def task_label(self) -> str:
        """The task id, or its position in the batch when it has none."""
        return self.item.task_id if self.item.task_id is not None else f"#{self.index}"


# --- answers --------------------------------------------------------------------------------


def normalise_token(token: str) -> str:
    """Fold a token for comparison: trim spaces and word-start marks (Ġ, ▁), casefold."""
    return token.strip().lstrip(_WORD_START_MARKS).strip().casefold()


def answer_from_logprobs(
    top: Sequence[tuple[str, float]], *, yes: str, no: str
) -> QuestionScore | None:
    """P(Yes) over the top tokens that read as ``yes`` or ``no``; None when there are none.

    Parameters
    ----------
    top : sequence of (token, logprob)
        The top alternatives of the answer token; several may read as the same word
        (``Yes``, `` yes``, ``ĠYes``), and their probabilities add up.
    yes, no : str
        The rubric's answer words.

    Returns
    -------
    QuestionScore or None
    """
    yes_word, no_word = normalise_token(yes), normalise_token(no)
    p_yes = p_no = 0.0
    for token, logprob in top:
        word = normalise_token(token)
        if word == yes_word:
            p_yes += math.exp(logprob)
        elif word == no_word:
            p_no += math.exp(logprob)
    mass = p_yes + p_no
    if mass <= 0.0:
        return None
    return QuestionScore(p_yes=p_yes / mass, answer_mass=mass)


def answer_from_text(text: str, *, yes: str, no: str) -> QuestionScore | None:
    """P(Yes) = 1 or 0 from the first word of ``text``; None when it is neither answer.

    ``answer_mass`` is :data:`TEXT_ANSWER_MASS` (NaN): there was no distribution.
    """
    match = _FIRST_WORD.match(normalise_token(text))
    word = match.group(0) if match else ""
    if word == normalise_token(yes):
        return QuestionScore(p_yes=1.0, answer_mass=TEXT_ANSWER_MASS)
    if word == normalise_token(no):
        return QuestionScore(p_yes=0.0, answer_mass=TEXT_ANSWER_MASS)
    return None


def _as_top_tokens(entries: Any) -> TopTokens:
    """(token, logprob) pairs from ``[{"token", "logprob"}, ...]`` or ``{token: logprob}``."""
    pairs: list[tuple[Any, Any]] = []
    if isinstance(entries, dict):
        pairs = list(entries.items())
    elif isinstance(entries, list):
        pairs = [(e.get("token"), e.get("logprob")) for e in entries if isinstance(e, dict)]
    return [
        (token, float(logprob))
        for token, logprob in pairs
        if isinstance(token, str) and isinstance(logprob, int | float)
    ]


def _chat_top_tokens(choice: dict[str, Any]) -> TopTokens:
    """Top alternatives of the first generated token of a chat completion choice."""
    logprobs = choice.get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list) or not content or not isinstance(content[0], dict):
        return []
    first = content[0]
    # Some servers leave top_logprobs empty and give only the sampled token.
    return _as_top_tokens(first.get("top_logprobs")) or _as_top_tokens([first])


def _completion_top_tokens(choice: dict[str, Any]) -> TopTokens:
    """Top alternatives of the first generated token of a text completion choice."""
    logprobs = choice.get("logprobs")
    top = logprobs.get("top_logprobs") if isinstance(logprobs, dict) else None
    if not isinstance(top, list) or not top:
        return []
    return _as_top_tokens(top[0])


def _chat_text(choice: dict[str, Any]) -> str:
    """The generated text of a chat completion choice ('' when missing)."""
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else ""


def _completion_text(choice: dict[str, Any]) -> str:
    """The generated text of a text completion choice ('' when missing)."""
    text = choice.get("text")
    return text if isinstance(text, str) else ""


# --- HTTP helpers ---------------------------------------------------------------------------


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asks us to wait (``Retry-After`` as seconds or a date), if any."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _error_detail(response: httpx.Response) -> str:
    """The server's own error message, shortened, as ' (message)', or ''."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message: Any = response.text
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body.get("message")))
        message = error.get("message", error) if isinstance(error, dict) else error
    text = " ".join(str(message or "").split())
    if len(text) > _ERROR_DETAIL_CHARS:
        text = text[: _ERROR_DETAIL_CHARS - 1] + "…"
    return f" ({text})" if text else ""


def _public_url(url: str) -> str:
    """``url`` without user info, query or fragment, safe to print and to record."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _required(value: str | None, field: str, *, example: str) -> str:
    """A resolved setting, or ConfigError naming the argument and variable that set it."""
    if value is None or not value.strip():
        what = field.removeprefix("http_")
        raise ConfigError(
            f"HTTP backend {what}: got nothing (no argument and ${env_name(field)} unset), "
            f"expected {example}"
        )
    return value.strip()


def _check_base_url(url: str) -> str:
    """The base URL without a trailing slash; ConfigError unless it is http(s) with a host."""
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        valid = valid and (parts.port is None or parts.port > 0)
        shown = _public_url(url)
    except ValueError:  # a port that is not a number or out of range
        valid, shown = False, url
    if not valid:
        raise ConfigError(
            f"HTTP backend base_url: got {shown!r}, expected an http:// or https:// URL "
            "such as http://127.0.0.1:8000/v1"
        )
    return url.rstrip("/")


def _check_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    """ConfigError unless ``value`` is positive (or zero when ``allow_zero``)."""
    if value < 0 or (value == 0 and not allow_zero) or math.isnan(value):
        expected = "zero or more" if allow_zero else "a positive number"
        raise ConfigError(f"HTTP backend {name}: got {value!r}, expected {expected}")


# --- the backend ----------------------------------------------------------------------------


@register_backend("http")
class HTTPScorer(Scorer):
    """Score tasks with a model behind an OpenAI-compatible HTTP API.

    Parameters
    ----------
    model : str, optional
        Model name on the server; the ``http_model`` setting (``$JOBIMPACT_HTTP_MODEL``)
        when omitted.
    base_url : str, optional
        API root such as ``http://127.0.0.1:8000/v1``; the ``http_base_url`` setting
        (``$JOBIMPACT_HTTP_BASE_URL``) when omitted.
    api_key : str, optional
        Sent as a Bearer token; the ``http_api_key`` setting (``$JOBIMPACT_HTTP_API_KEY``)
        when omitted. Never stored, logged or printed.
    endpoint : {"chat", "completions"}
        ``/chat/completions`` with system and user messages, or ``/completions`` with the
        plain-text prompt.
    concurrency : int
        Requests in flight at most.
    timeout : float
        Seconds one request may take, from sending to the whole response.
    max_retries : int
        Further attempts after a transient failure (429, 5xx, timeout, dropped connection,
        malformed JSON).
    backoff : float
        Wait before the first retry in seconds, doubled for each further one; a longer
        ``Retry-After`` from the server wins.
    top_logprobs : int
        Alternatives of the answer token to ask for (OpenAI allows at most 20).
    rubric : Rubric or str, optional
        Rubric or its name/path; the packaged default when omitted.
    transport : httpx.AsyncBaseTransport, optional
        Transport for every request, e.g. :class:`httpx.MockTransport` in tests. Each batch
        opens and closes its own client, which closes the transport's open connections.

    Raises
    ------
    ConfigError
        When the model or base URL is missing, or a setting is out of range.
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        endpoint: Endpoint = "chat",
        concurrency: int = 8,
        timeout: float = 60.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        top_logprobs: int = 20,
        rubric: Rubric | str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(rubric=rubric)
        settings = Settings.resolve(http_model=model, http_base_url=base_url, http_api_key=api_key)
        self.model = _required(settings.http_model, "http_model", example="a served model name")
        self.base_url = _check_base_url(
            _required(settings.http_base_url, "http_base_url", example="http://127.0.0.1:8000/v1")
        )
        self._api_key = _Secret((settings.http_api_key or "").strip())
        if endpoint not in _PATHS:
            raise ConfigError(
                f"HTTP backend endpoint: got {endpoint!r}, expected 'chat' or 'completions'"
            )
        for name, value in (("concurrency", concurrency), ("top_logprobs", top_logprobs)):
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"HTTP backend {name}: got {value!r}, expected an integer >= 1")
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigError(f"HTTP backend max_retries: got {max_retries!r}, expected >= 0")
        _check_positive("timeout", timeout)
        _check_positive("backoff", backoff, allow_zero=True)
        self.endpoint: Endpoint = endpoint
        self.concurrency = concurrency
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.backoff = float(backoff)
        self.top_logprobs = top_logprobs
        self.transport = transport
        # The plain-text prompt of a local model without a chat template; needs no tokenizer.
        self._plain_layout: PromptLayout = build_layout(None, self.rubric, use_chat_template=False)

    @property
    def model_id(self) -> str:
        """``http:<model>@<host>``, with ``#completions`` for the completions endpoint.

        The endpoint is part of it because the two prompts differ, so their scores do.
        """
        host = urlsplit(self.base_url).hostname or ""
        suffix = "" if self.endpoint == "chat" else f"#{self.endpoint}"
        return f"http:{self.model}@{host}{suffix}"

    @property
    def url(self) -> str:
        """The endpoint URL requests are posted to."""
        return self.base_url + _PATHS[self.endpoint]

    def score_batch(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
        """Score tasks over HTTP, concurrently; results in input order.

        Runs an event loop of its own; from inside a running loop, in a worker thread.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.ascore_batch(items))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobimpact-http") as pool:
            return pool.submit(lambda: asyncio.run(self.ascore_batch(items))).result()

    async def ascore_batch(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
        """Score tasks over HTTP on the running event loop; results in input order.

        Raises
        ------
        ScoringError
            For the first request that failed for good (the others are cancelled).
        """
        requests = [
            _Request(index=i, item=item, key=key, payload=self._payload(item, key))
            for i, item in enumerate(items)
            for key in self.rubric.keys
        ]
        gate = asyncio.Semaphore(self.concurrency)
        async with self._client() as client:
            try:
                async with asyncio.TaskGroup() as group:
                    jobs = [group.create_task(self._ask(client, gate, r)) for r in requests]
            except BaseExceptionGroup as failures:
                raise _first_scoring_error(failures) from None
        answers = [job.result() for job in jobs]
        return self._assemble(items, requests, answers)

    # --- one request ------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        """A client for one batch: key header, timeouts and a pool as wide as ``concurrency``."""
        headers = {"User-Agent": USER_AGENT}
        if self._api_key.value:
            headers["Authorization"] = f"Bearer {self._api_key.value}"
        return httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            ),
            transport=self.transport,
        )

    def _payload(self, item: TaskPrompt, key: str) -> dict[str, Any]:
        """The JSON body asking one question about one task for one greedy token."""
        body: dict[str, Any] = {"model": self.model, "temperature": 0, "max_tokens": 1}
        if self.endpoint == "chat":
            user = self.rubric.user_message(occupation=item.occupation, task=item.task, key=key)
            body["messages"] = [
                {"role": "system", "content": self.rubric.system},
                {"role": "user", "content": user},
            ]
            body |= {"logprobs": True, "top_logprobs": self.top_logprobs}
        else:
            task_block = self.rubric.task_block(occupation=item.occupation, task=item.task)
            body["prompt"] = self._plain_layout.full(task_block, self.rubric.question_block(key))
            body["logprobs"] = self.top_logprobs
        return body

    async def _ask(
        self, client: httpx.AsyncClient, gate: asyncio.Semaphore, request: _Request
    ) -> QuestionScore:
        """Send one request (with retries) and read the answer from its first choice."""
        body = await self._post(client, gate, request)
        return self._read_answer(body["choices"][0], request)

    async def _post(
        self, client: httpx.AsyncClient, gate: asyncio.Semaphore, request: _Request
    ) -> dict[str, Any]:
        """Post with retries; the gate is held per attempt, not during backoff waits."""
        failure = _Transient("no attempt", "200")
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self._delay(attempt - 1, failure))
            try:
                async with gate:
                    return await self._attempt(client, request)
            except _Transient as exc:
                failure = exc
        plural = "s" if attempts != 1 else ""
        raise ScoringError(
            f"{self._where(request)}: got {failure.got} after {attempts} attempt{plural}, "
            f"expected {failure.expected}"
        )

    def _delay(self, retry: int, failure: _Transient) -> float:
        """Exponential backoff, or the server's Retry-After when that is longer."""
        return max(self.backoff * 2.0**retry, failure.retry_after or 0.0)

    async def _attempt(self, client: httpx.AsyncClient, request: _Request) -> dict[str, Any]:
        """One attempt: the parsed body of a 200 answer, or _Transient, or ScoringError."""
        try:
            async with asyncio.timeout(self.timeout):
                response = await client.post(self.url, json=request.payload)
        except (TimeoutError, httpx.TimeoutException) as exc:
            got = f"no complete response within {self.timeout:g} s ({type(exc).__name__})"
            raise _Transient(got, "a response in time") from exc
        except httpx.RequestError as exc:
            # Refused or dropped connections (RemoteProtocolError, ReadError, ConnectError).
            raise _Transient(f"{type(exc).__name__} ({exc})", "a complete response") from exc
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status}", "200", retry_after=_retry_after(response))
        if status != 200:
            raise ScoringError(self._refusal(response, request))
        return _parse_body(response)

    def _refusal(self, response: httpx.Response, request: _Request) -> str:
        """The message for an answer that retrying will not fix (4xx other than 429)."""
        status = response.status_code
        message = (
            f"{self._where(request)}: got HTTP {status}{_error_detail(response)}, expected 200"
        )
        if status in (401, 403):
            state = "was sent and refused" if self._api_key.value else "was not given"
            message += f"; the API key (${env_name('http_api_key')}) {state}"
        elif status == 404:
            message += f"; check the base URL and that the server serves model {self.model!r}"
        return message

    def _read_answer(self, choice: dict[str, Any], request: _Request) -> QuestionScore:
        """P(Yes) from the top tokens, else from the text; ScoringError when neither answers."""
        chat = self.endpoint == "chat"
        top = _chat_top_tokens(choice) if chat else _completion_top_tokens(choice)
        yes, no = self.rubric.yes, self.rubric.no
        answer = answer_from_logprobs(top, yes=yes, no=no)
        if answer is not None:
            return answer
        text = _chat_text(choice) if chat else _completion_text(choice)
        answer = answer_from_text(text, yes=yes, no=no)
        if answer is None:
            raise ScoringError(
                f"{self._where(request)}: got {text!r} (no {yes} or {no} among "
                f"{len(top)} top tokens), expected {yes} or {no}"
            )
        return answer

    def _where(self, request: _Request) -> str:
        """URL (without secrets), task and question of a request, for messages."""
        return f"{_public_url(self.url)}, task {request.task_label}, question {request.key!r}"

    def _assemble(
        self,
        items: Sequence[TaskPrompt],
        requests: Sequence[_Request],
        answers: Sequence[QuestionScore],
    ) -> list[TaskScore]:
        """Group per-question answers back into one TaskScore per task, in input order."""
        per_task: list[dict[str, QuestionScore]] = [{} for _ in items]
        for request, answer in zip(requests, answers, strict=True):
            per_task[request.index][request.key] = answer
        return [
            TaskScore(task_id=item.task_id, answers=answers, feature=None)
            for item, answers in zip(items, per_task, strict=True)
        ]


def _parse_body(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a completion; _Transient when it is malformed or has no choice."""
    try:
        body = response.json()
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise _Transient(f"a malformed JSON body ({exc})", "a JSON completion") from exc
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _Transient(
            f"a JSON body without choices{_error_detail(response)}", "a JSON completion"
        )
    parsed: dict[str, Any] = body
    return parsed


def _first_scoring_error(failures: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first ScoringError of a task group's failures, else the group itself."""
    for failure in failures.exceptions:
        if isinstance(failure, ScoringError):
            return failure
    return failures
