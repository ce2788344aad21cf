"""Scoring through an OpenAI-compatible HTTP server (vLLM, llama.cpp server, Ollama, hosted APIs).

Every (task, question) pair is one request for a single answer token at temperature 0 with
the top log-probabilities of that token. The prompt is the one a local model sees: the
``chat`` endpoint gets the rubric's system text and user message
(:meth:`~jobimpact.scoring.rubric.Rubric.user_message`), the ``completions`` endpoint the
plain-text layout of :func:`~jobimpact.scoring.engine.build_layout` without a chat template.
How an answer is read, and what counts as malformed, is in
:mod:`jobimpact.scoring.http_answers`. With ``logprobs=False`` (``--no-logprobs``) no
log-probabilities are asked for and every answer is read from the text, flagged as such.

Requests run concurrently on an asyncio event loop, at most ``concurrency`` at a time and
fewer while the server rate-limits (see :mod:`jobimpact.scoring.http_limits`). Transient
failures (5xx, timeouts, dropped connections, malformed JSON or log-probabilities) and rate
limits (429) are retried, each within its own budget, with jittered waits honouring
``Retry-After``; only the failed request is sent again. A task whose request fails for good
fails alone: the batch's other answers are kept (:class:`IncompleteBatchError`). An answer
that will not change stops the run with :class:`~jobimpact.errors.ScoringRefusedError`:
at once for 401, 403, 404 and 405 (the key, URL, model or endpoint is wrong for every
request); for another 4xx or a reasoning model thinking instead of answering, when it
comes before the server has answered anything; and for any of these or an answer that is
neither Yes nor No, when it is all a batch gets. Otherwise it fails its task only (a
prompt too long for the model, say).

:meth:`HTTPScorer.score_batch` runs its own loop with :func:`asyncio.run`; called from a
thread whose loop is already running (a Jupyter cell, an async web app) it runs that loop
in a worker thread and blocks the caller until the batch is done. Async callers can
``await`` :meth:`HTTPScorer.ascore_batch` instead.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from jobimpact import __version__
from jobimpact.errors import ConfigError, ScoringError, ScoringRefusedError
from jobimpact.scoring.base import (
    IncompleteBatchError,
    QuestionScore,
    Scorer,
    TaskPrompt,
    TaskScore,
    register_backend,
)
from jobimpact.scoring.engine import PromptLayout, build_layout
from jobimpact.scoring.http_answers import (
    TEXT_ANSWER_MASS,
    MalformedAnswer,
    answer_from_logprobs,
    answer_from_text,
    choice_text,
    normalise_token,
    thinking,
    top_tokens,
)
from jobimpact.scoring.http_limits import AdaptiveLimit, RetryBudget, Transient, retry_after
from jobimpact.scoring.rubric import Rubric
from jobimpact.settings import Settings, env_name

__all__ = [
    "TEXT_ANSWER_MASS",
    "HTTPScorer",
    "answer_from_logprobs",
    "answer_from_text",
    "normalise_token",
]

USER_AGENT = f"jobimpact/{__version__} (task scoring)"

Endpoint = Literal["chat", "completions"]
_PATHS: dict[str, str] = {"chat": "/chat/completions", "completions": "/completions"}
_ERROR_DETAIL_CHARS = 200
# Statuses worth another attempt besides 429 and 5xx: request timeout, conflict, too early.
_TRANSIENT_4XX = frozenset({408, 409, 425})
# Refusals that hold for every request of a run: the key, the URL, the model, the endpoint.
_RUN_WIDE_4XX = frozenset({401, 403, 404, 405})


class _Secret:
    """A value kept out of reprs, logs and tracebacks (an API key)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "_Secret('***')" if self.value else "_Secret('')"


class _Refusal(Exception):
    """An answer that retrying will not change, and when it stops the run: ``"run"`` at
    once (no request can succeed), ``"first"`` when nothing was answered yet, ``"batch"``
    only when nothing of its batch was answered."""

    def __init__(self, message: str, *, stops: Literal["run", "first", "batch"]) -> None:
        super().__init__(message)
        self.message, self.stops = message, stops


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


@dataclass(frozen=True, slots=True)
class _Outcome:
    """How one request ended: an answer, or why it failed and whether it was refused."""

    answer: QuestionScore | None = None
    failure: str | None = None
    refused: bool = False


# --- HTTP helpers ---------------------------------------------------------------------------


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
    endpoint : {"chat", "completions"}, optional
        ``/chat/completions`` with system and user messages, or ``/completions`` with the
        plain-text prompt; the ``http_endpoint`` setting, else ``chat``.
    logprobs : bool
        Ask for the top log-probabilities of the answer token (P(Yes) is a probability);
        False for servers that refuse them: every answer is then read from the text
        (P(Yes) 0 or 1), flagged ``from_text``, and the model id ends in ``#text``.
    concurrency : int
        Requests in flight at most; fewer while the server answers 429 (AIMD).
    timeout : float
        Seconds one request may take, from sending to the whole response.
    max_retries : int
        Further attempts after a transient failure (5xx, timeout, dropped connection,
        malformed JSON or log-probabilities).
    rate_limit_retries : int
        Further attempts after rate limits (429), counted apart from ``max_retries``.
    backoff : float
        Ceiling of the first wait after a transient failure in seconds (the wait is drawn
        below it), doubled for each further one; a ``Retry-After`` from the server is
        waited instead, plus up to a quarter.
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
        endpoint: Endpoint | None = None,
        logprobs: bool = True,
        concurrency: int = 8,
        timeout: float = 60.0,
        max_retries: int = 4,
        rate_limit_retries: int = 20,
        backoff: float = 0.5,
        top_logprobs: int = 20,
        rubric: Rubric | str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(rubric=rubric)
        settings = Settings.resolve(
            http_model=model, http_base_url=base_url, http_api_key=api_key, http_endpoint=endpoint
        )
        self.model = _required(settings.http_model, "http_model", example="a served model name")
        self.base_url = _check_base_url(
            _required(settings.http_base_url, "http_base_url", example="http://127.0.0.1:8000/v1")
        )
        self._api_key = _Secret((settings.http_api_key or "").strip())
        chosen = settings.http_endpoint
        if chosen not in _PATHS:
            raise ConfigError(
                f"HTTP backend endpoint: got {chosen!r}, expected 'chat' or 'completions'"
            )
        _check_counts(
            concurrency=concurrency,
            top_logprobs=top_logprobs,
            max_retries=max_retries,
            rate_limit_retries=rate_limit_retries,
        )
        _check_positive("timeout", timeout)
        _check_positive("backoff", backoff, allow_zero=True)
        self.endpoint: Endpoint = "chat" if chosen == "chat" else "completions"
        self.logprobs = bool(logprobs)
        self.answers_from_text = not self.logprobs
        self.concurrency = concurrency
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.rate_limit_retries = rate_limit_retries
        self.backoff = float(backoff)
        self.top_logprobs = top_logprobs
        self.transport = transport
        self.limit = AdaptiveLimit(concurrency)
        # Requests the server has answered; a refusal before the first one stops the run.
        self.answered = 0
        # The plain-text prompt of a local model without a chat template; needs no tokenizer.
        self._plain_layout: PromptLayout = build_layout(None, self.rubric, use_chat_template=False)

    @property
    def model_id(self) -> str:
        """``http:<model>@<host>``, with ``#completions`` for the completions endpoint and
        ``#text`` without log-probabilities (``#completions+text`` for both).

        Both are part of it because they change the scores: the two prompts differ, and
        text answers are 0 or 1.
        """
        host = urlsplit(self.base_url).hostname or ""
        marks: list[str] = [self.endpoint] if self.endpoint != "chat" else []
        marks += [] if self.logprobs else ["text"]
        return f"http:{self.model}@{host}" + (f"#{'+'.join(marks)}" if marks else "")

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
        IncompleteBatchError
            When some tasks failed for good; it holds the scores of the others.
        ScoringRefusedError
            When the server refuses the requests themselves (the others are cancelled).
        """
        requests = [
            _Request(index=i, item=item, key=key, payload=self._payload(item, key))
            for i, item in enumerate(items)
            for key in self.rubric.keys
        ]
        async with self._client() as client:
            try:
                async with asyncio.TaskGroup() as group:
                    jobs = [group.create_task(self._ask(client, r)) for r in requests]
            except BaseExceptionGroup as failures:
                raise _first_scoring_error(failures) from None
        return self._assemble(items, requests, [job.result() for job in jobs])

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
            if self.logprobs:
                body |= {"logprobs": True, "top_logprobs": self.top_logprobs}
        else:
            task_block = self.rubric.task_block(occupation=item.occupation, task=item.task)
            body["prompt"] = self._plain_layout.full(task_block, self.rubric.question_block(key))
            if self.logprobs:
                body["logprobs"] = self.top_logprobs
        return body

    async def _ask(self, client: httpx.AsyncClient, request: _Request) -> _Outcome:
        """One request with its retries, ended as an answer or a failure of its task alone;
        ScoringRefusedError when the refusal stands for the whole run."""
        try:
            answer = await self._retrying(client, request)
        except _Refusal as refusal:
            if refusal.stops == "run" or (refusal.stops == "first" and not self.answered):
                raise ScoringRefusedError(refusal.message) from None
            return _Outcome(failure=refusal.message, refused=True)
        except ScoringError as failure:
            return _Outcome(failure=str(failure))
        self.answered += 1
        return _Outcome(answer=answer)

    async def _retrying(self, client: httpx.AsyncClient, request: _Request) -> QuestionScore:
        """Attempts until one answers or the budget of the failure's kind is spent."""
        budget = RetryBudget(self.max_retries, self.rate_limit_retries, self.backoff)
        try:
            async for attempt in budget.retrying():
                with attempt:
                    return await self._attempt(client, request, budget)
        except Transient as failure:
            attempts = budget.attempts
            limited = f", {budget.limits} rate-limited" if budget.limits and budget.failures else ""
            raise ScoringError(
                f"{self._where(request)}: got {failure.got} after {attempts} attempt"
                f"{'s' if attempts != 1 else ''}{limited}, expected {failure.expected}"
            ) from None
        raise AssertionError("tenacity ended without an outcome")  # pragma: no cover

    async def _attempt(
        self, client: httpx.AsyncClient, request: _Request, budget: RetryBudget
    ) -> QuestionScore:
        """One attempt under the adaptive limit: the answer, or Transient, or _Refusal."""
        async with self.limit.slot() as sent_in:
            try:
                body = await self._send(client, request)
                answer = self._read_answer(body["choices"][0], request)
            except Transient as failure:
                budget.count(failure)
                if failure.rate_limited:
                    self.limit.rate_limited(sent_in, failure.retry_after)
                elif failure.retry_after:
                    self.limit.hold(failure.retry_after)
                raise
        self.limit.answered()
        return answer

    async def _send(self, client: httpx.AsyncClient, request: _Request) -> dict[str, Any]:
        """Post once: the parsed body of a 200 answer, or Transient, or _Refusal."""
        try:
            async with asyncio.timeout(self.timeout):
                response = await client.post(self.url, json=request.payload)
        except (TimeoutError, httpx.TimeoutException) as exc:
            got = f"no complete response within {self.timeout:g} s ({type(exc).__name__})"
            raise Transient(got, "a response in time") from exc
        except httpx.RequestError as exc:
            # Refused or dropped connections (RemoteProtocolError, ReadError, ConnectError).
            raise Transient(f"{type(exc).__name__} ({exc})", "a complete response") from exc
        status = response.status_code
        if status == 429:
            wait = retry_after(response)
            raise Transient("HTTP 429", "200", retry_after=wait, rate_limited=True)
        if status >= 500 or status in _TRANSIENT_4XX:
            raise Transient(f"HTTP {status}", "200", retry_after=retry_after(response))
        if status != 200:
            stops: Literal["run", "first"] = "run" if status in _RUN_WIDE_4XX else "first"
            raise _Refusal(self._refusal(response, request), stops=stops)
        return _parse_body(response)

    def _refusal(self, response: httpx.Response, request: _Request) -> str:
        """What came back for a 4xx other than 429, and what to do about it."""
        status, detail = response.status_code, _error_detail(response)
        message = f"{self._where(request)}: got HTTP {status}{detail}, expected 200"
        other = "completions" if self.endpoint == "chat" else "chat"
        if status in (401, 403):
            state = "was sent and refused" if self._api_key.value else "was not given"
            return message + f"; the API key (${env_name('http_api_key')}) {state}"
        if status == 404:
            return message + (
                f"; check the base URL and that the server serves model {self.model!r} "
                f"(or try --endpoint {other})"
            )
        if status == 405:
            return message + f"; no POST is taken here: check the base URL, or --endpoint {other}"
        if self.logprobs and "logprob" in detail.casefold():
            return message + (
                "; the server refuses the log-probabilities asked for: try --no-logprobs to "
                f"read each answer from the text (P(Yes) 0 or 1), or --endpoint {other}"
            )
        return message + (
            "; the server refuses the request itself: check --model and the server's log"
            + ("; --no-logprobs sends a simpler request" if self.logprobs else "")
        )

    def _read_answer(self, choice: dict[str, Any], request: _Request) -> QuestionScore:
        """P(Yes) from the top tokens, else from the text.

        Raises Transient for malformed log-probabilities, _Refusal for a reasoning model's
        thinking and when neither the tokens nor the text answer (at temperature 0 asking
        again gets the same; a batch that gets nothing else stops the run).
        """
        chat = self.endpoint == "chat"
        yes, no = self.rubric.yes, self.rubric.no
        try:
            top = top_tokens(choice, chat=chat) if self.logprobs else None
            sign = thinking(choice, top, chat=chat)
            if sign is not None:
                raise _Refusal(self._thinking(request, sign), stops="first")
            answer = answer_from_logprobs(top or [], yes=yes, no=no)
        except MalformedAnswer as bad:
            raise Transient(bad.got, bad.expected) from None
        if answer is not None:
            return answer
        text = choice_text(choice, chat=chat)
        answer = answer_from_text(text, yes=yes, no=no)
        if answer is not None:
            return answer
        seen = "no log-probabilities" if top is None else f"{len(top)} top tokens"
        raise _Refusal(
            f"{self._where(request)}: got {text!r} (no {yes} or {no} among {seen}), "
            f"expected {yes} or {no}",
            stops="batch",
        )

    def _thinking(self, request: _Request, sign: str) -> str:
        """The message for a reasoning model that starts to think instead of answering."""
        yes, no = self.rubric.yes, self.rubric.no
        advice = "turn reasoning off on the server (e.g. enable_thinking false in its template)"
        if self.endpoint == "chat":
            advice += ", or use --endpoint completions (the prompt without the chat template)"
        return (
            f"{self._where(request)}: got a reasoning model's thinking ({sign}), expected "
            f"{yes} or {no} as the first token; {advice}"
        )

    def _where(self, request: _Request) -> str:
        """URL (without secrets), task and question of a request, for messages."""
        return f"{_public_url(self.url)}, task {request.task_label}, question {request.key!r}"

    def _assemble(
        self,
        items: Sequence[TaskPrompt],
        requests: Sequence[_Request],
        outcomes: Sequence[_Outcome],
    ) -> list[TaskScore]:
        """One TaskScore per task, in input order; IncompleteBatchError when some failed,
        ScoringRefusedError when the batch got refusals and no answer at all."""
        failures = [o for o in outcomes if o.failure is not None]
        if failures and len(failures) == len(outcomes) and all(o.refused for o in failures):
            raise ScoringRefusedError(str(failures[0].failure))
        per_task: list[dict[str, QuestionScore]] = [{} for _ in items]
        reasons: list[str | None] = [None for _ in items]
        for request, outcome in zip(requests, outcomes, strict=True):
            if outcome.answer is not None:
                per_task[request.index][request.key] = outcome.answer
            elif reasons[request.index] is None:
                reasons[request.index] = outcome.failure
        scores = [
            TaskScore(task_id=item.task_id, answers=answers, feature=None)
            for item, answers in zip(items, per_task, strict=True)
        ]
        if any(reason is not None for reason in reasons):
            raise IncompleteBatchError(
                [None if reason else score for score, reason in zip(scores, reasons, strict=True)],
                reasons,
            )
        return scores


def _check_counts(**counts: int) -> None:
    """ConfigError unless each count is an integer >= 1 (retries: >= 0)."""
    for name, value in counts.items():
        least = 0 if name.endswith("retries") else 1
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise ConfigError(f"HTTP backend {name}: got {value!r}, expected an integer >= {least}")


def _parse_body(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a completion; Transient when it is malformed or has no choice."""
    try:
        body = response.json()
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise Transient(f"a malformed JSON body ({exc})", "a JSON completion") from exc
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise Transient(
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
