"""A small OpenAI-compatible server for the HTTP backend's tests, with fault injection.

It serves ``/v1/chat/completions`` and ``/v1/completions``. The answer distribution of a
prompt (the last chat message, or the completion prompt) is fixed by its sha256, see
:func:`intended_answer`, and spread over several spellings of Yes and No plus other words.

Behaviour is chosen by the request, so one server serves every test:

- markers in the task text, counted per prompt (each question of a task separately):
  ``[fail2]`` HTTP 500 on the first 2 attempts; ``[down]`` HTTP 500 always; ``[busy]``
  HTTP 429 with ``Retry-After`` on the first attempt; ``[slow]`` a first answer after
  :data:`SLOW_S`; ``[badjson]`` a first body that is not JSON; ``[drop]`` a first response
  whose connection closes mid-body; ``[maybe]`` always "Maybe" with no Yes or No among the
  top tokens; malformed log-probabilities, always or (with a number) on the first N
  attempts: ``[nan]`` NaN for the Yes token, ``[posinf]`` +Infinity, ``[positive]`` +0.5,
  ``[mass]`` Yes and No tokens holding 1.5 in all; ``[toolong]`` HTTP 400 always;
- the model name: ``no-logprobs`` answers with ``logprobs: null``, ``omits-logprobs``
  without the field; ``refuses-logprobs`` answers 400 "logprobs not supported" to requests
  that ask for them (and in text to others); ``reasoning`` thinks first (``<think>``,
  content null, ``reasoning_content`` set); ``nan-logprobs`` gives every Yes token NaN;
  ``hedges`` always answers "Maybe" (as the ``[maybe]`` marker);
  ``needs-key`` wants the header ``Authorization: Bearer stub-key``; ``unhurried`` takes
  :data:`UNHURRIED_S` per request;
- the app: ``create_app(state, rate=N)`` admits N requests per fixed one-second window
  (the first window opens at the first request) and answers the others 429 with
  ``Retry-After`` in whole seconds until the next window.

Requests without ``logprobs`` get a text answer only. :class:`StubState` records what
arrived, what was answered with 200 or 429, and the most requests in flight at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

SLOW_S = 1.0
UNHURRIED_S = 0.05
RETRY_AFTER_S = 1
API_KEY = "stub-key"
MAX_TOP_LOGPROBS = 20
_MARK = re.compile(r"\[([a-z]+)(\d*)\]")
# How P(Yes), P(No) and the rest are spread over tokens (token, share).
_YES_SPELLINGS = (("Yes", 0.7), (" yes", 0.2), ("\u0120YES", 0.1))
_NO_SPELLINGS = (("No", 0.8), ("\u2581no", 0.2))
_OTHER_WORDS = (("Maybe", 0.5), ("The", 0.3), ("I", 0.2))


def intended_answer(prompt: str) -> tuple[float, float]:
    """(P(Yes) renormalised over Yes/No, mass on Yes/No) that the stub gives ``prompt``."""
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    u1 = int.from_bytes(digest[:8], "big") / 2.0**64
    u2 = int.from_bytes(digest[8:16], "big") / 2.0**64
    return 0.02 + 0.96 * u1, 0.5 + 0.49 * u2


def token_distribution(prompt: str, *, hedging: bool = False) -> list[tuple[str, float]]:
    """The first token's alternatives as (token, probability), most likely first."""
    if hedging:
        return [(token, share) for token, share in _OTHER_WORDS]
    p_yes, mass = intended_answer(prompt)
    spread = [(t, s * p_yes * mass) for t, s in _YES_SPELLINGS]
    spread += [(t, s * (1.0 - p_yes) * mass) for t, s in _NO_SPELLINGS]
    spread += [(t, s * (1.0 - mass)) for t, s in _OTHER_WORDS]
    return sorted(spread, key=lambda pair: -pair[1])


@dataclass
class StubState:
    """What the stub saw: request bodies, Authorization headers, attempts, concurrency."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    first_request: float | None = None
    window: int = 0
    window_count: int = 0

    def reset(self) -> None:
        """Forget everything (the server itself keeps running)."""
        self.bodies.clear()
        self.authorizations.clear()
        self.attempts.clear()
        self.answered.clear()
        self.rate_limited = self.in_flight = self.max_in_flight = 0
        self.first_request, self.window, self.window_count = None, 0, 0

    def admit(self, rate: int) -> float | None:
        """None when a request fits in its one-second window of ``rate`` requests (windows
        count from the first request), else the seconds until the next window opens."""
        now = time.monotonic()
        if self.first_request is None:
            self.first_request = now
        elapsed = now - self.first_request
        if int(elapsed) != self.window:
            self.window, self.window_count = int(elapsed), 0
        if self.window_count < rate:
            self.window_count += 1
            return None
        return self.window + 1 - elapsed


def create_app(state: StubState, *, rate: int | None = None) -> FastAPI:
    """The stub application, recording into ``state``; ``rate`` requests a second at most."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        return await _serve(state, request, chat=True, rate=rate)

    @app.post("/v1/completions")
    async def completions(request: Request) -> Response:
        return await _serve(state, request, chat=False, rate=rate)

    return app


async def _serve(state: StubState, request: Request, *, chat: bool, rate: int | None) -> Response:
    """Record the request, count it in flight, and answer it."""
    body = await request.json()
    state.bodies.append(body)
    state.authorizations.append(request.headers.get("Authorization"))
    prompt = str(body["messages"][-1]["content"] if chat else body["prompt"])
    state.attempts[prompt] += 1
    wait = state.admit(rate) if rate is not None else None
    if wait is not None:
        state.rate_limited += 1
        response = _error(429, "rate limit reached")
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    state.in_flight += 1
    state.max_in_flight = max(state.max_in_flight, state.in_flight)
    try:
        response = await _answer(
            body,
            prompt,
            attempt=state.attempts[prompt],
            chat=chat,
            authorization=request.headers.get("Authorization"),
        )
    finally:
        state.in_flight -= 1
    if response.status_code == 200:
        state.answered[prompt] += 1
    return response


async def _answer(
    body: dict[str, Any], prompt: str, *, attempt: int, chat: bool, authorization: str | None
) -> Response:
    """The response to one attempt at one prompt."""
    model = body.get("model")
    if model == "needs-key" and authorization != f"Bearer {API_KEY}":
        return _error(401, "invalid API key")
    problem = _check_request(body, chat=chat)
    if problem:
        return _error(400, problem)
    wanted = _wanted(body, chat=chat)
    if model == "refuses-logprobs" and wanted:
        return _error(400, "logprobs not supported")
    fault = await _fault(prompt, attempt)
    if fault is not None:
        return fault
    # A small prompt-dependent delay, so that answers come back out of order.
    delay = UNHURRIED_S if model == "unhurried" else intended_answer(prompt)[0] / 50
    await asyncio.sleep(delay)
    make = _chat_body if chat else _completion_body
    if model == "reasoning":
        return _json(make(_THINKING[:wanted] if wanted else None, text=None, model=str(model)))
    if model in ("no-logprobs", "omits-logprobs", "refuses-logprobs") or not wanted:
        # A server that cannot give log-probabilities still answers the likelier word.
        word = "Yes" if intended_answer(prompt)[0] >= 0.5 else "No"
        answer = make(None, text=word, model=str(model))
        if model == "omits-logprobs":
            del answer["choices"][0]["logprobs"]
        return _json(answer)
    hedging = "maybe" in _markers(prompt) or model == "hedges"
    top = token_distribution(prompt, hedging=hedging)[:wanted]
    top = _malformed(top, prompt, attempt, nan=model == "nan-logprobs")
    return _json(make(top, text=top[0][0], model=str(model)))


# A reasoning model's first token and its alternatives.
_THINKING = [("<think>", 0.999), ("Yes", 0.0006), ("No", 0.0004)]
# Malformed log-probabilities of the Yes token, by marker (log(0.9) + log(0.6): mass 1.5).
_BAD_YES_LOGPROB = {"nan": math.nan, "posinf": math.inf, "positive": 0.5}


def _malformed(
    top: list[tuple[str, float]], prompt: str, attempt: int, *, nan: bool
) -> list[tuple[str, float]]:
    """The top tokens with the malformed value the prompt's markers ask for, given as a
    probability (the body writes its log; NaN and +inf pass through as they are)."""
    marks = _markers(prompt)
    # A marker without a number acts on every attempt, with one on the first N.
    kinds = (*_BAD_YES_LOGPROB, "mass")
    bad = [m for m in kinds if m in marks and (marks[m] == 0 or attempt <= marks[m])]
    if nan:
        bad.append("nan")
    if not bad:
        return top
    if bad[0] == "mass":
        return [("Yes", 0.9), ("No", 0.6)]
    logprob = _BAD_YES_LOGPROB[bad[0]]
    return [("Yes", math.exp(logprob) if math.isfinite(logprob) else logprob), *top[1:]]


def _json(content: dict[str, Any]) -> Response:
    """A JSON response that may hold NaN and Infinity (as Python's json writes them)."""
    return Response(json.dumps(content, allow_nan=True), media_type="application/json")


def _check_request(body: dict[str, Any], *, chat: bool) -> str:
    """What is wrong with a request for one greedy token (with log-probabilities), or ''."""
    if body.get("temperature") != 0 or body.get("max_tokens") != 1:
        return "expected temperature 0 and max_tokens 1"
    if "[toolong]" in str(body.get("messages") or body.get("prompt")):
        return "This model's maximum context length is 8 tokens"
    if chat and "logprobs" not in body and "top_logprobs" not in body:
        return ""
    if not chat and "logprobs" not in body:
        return ""
    wanted = body.get("top_logprobs") if chat else body.get("logprobs")
    if chat and body.get("logprobs") is not True:
        return "expected logprobs: true"
    if not isinstance(wanted, int) or not 0 <= wanted <= MAX_TOP_LOGPROBS:
        return f"top_logprobs: got {wanted!r}, expected at most {MAX_TOP_LOGPROBS}"
    return ""


def _wanted(body: dict[str, Any], *, chat: bool) -> int:
    """How many alternatives the request asked for (0: none, a text answer)."""
    return int(body.get("top_logprobs", 0) if chat else body.get("logprobs", 0))


def _markers(prompt: str) -> dict[str, int]:
    """Fault markers in the prompt, name → number (0 when none is given)."""
    return {name: int(count or 0) for name, count in _MARK.findall(prompt)}


async def _fault(prompt: str, attempt: int) -> Response | None:
    """The injected fault for this attempt, or None to answer normally."""
    marks = _markers(prompt)
    if "down" in marks or attempt <= marks.get("fail", 0):
        return _error(500, "stub server error")
    if attempt > 1:
        return None
    if "busy" in marks:
        response = _error(429, "slow down")
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response
    if "slow" in marks:
        await asyncio.sleep(SLOW_S)
    if "badjson" in marks:
        return Response(b'{"choices": [{"text": "Ye', media_type="application/json")
    if "drop" in marks:
        return StreamingResponse(_cut_short(), media_type="application/json")
    return None


async def _cut_short() -> AsyncIterator[bytes]:
    """Send the start of a body, then fail, which makes uvicorn close the connection."""
    yield b'{"choices": ['
    raise ConnectionAbortedError("stub drops the connection mid-body")


def _error(status: int, message: str) -> JSONResponse:
    """An OpenAI-style error body."""
    return JSONResponse({"error": {"message": message, "type": "stub"}}, status_code=status)


def _log(p: float) -> float:
    """log(p), passing NaN and +inf through as the malformed values they stand for."""
    return p if math.isnan(p) or math.isinf(p) else math.log(p)


def _chat_body(
    top: list[tuple[str, float]] | None, *, text: str | None, model: str
) -> dict[str, Any]:
    """A chat completion answering ``text`` (None: a reasoning model's null content with
    ``reasoning_content``), with ``top`` as its alternatives (or none)."""
    logprobs = None
    if top is not None:
        entry = {
            "token": top[0][0],
            "logprob": _log(top[0][1]),
            "bytes": list(top[0][0].encode()),
            "top_logprobs": [{"token": t, "logprob": _log(p)} for t, p in top],
        }
        logprobs = {"content": [entry]}
    message: dict[str, Any] = {"role": "assistant", "content": text.strip() if text else None}
    if text is None:
        message["reasoning_content"] = ""
    choice = {"index": 0, "message": message, "logprobs": logprobs, "finish_reason": "length"}
    return {"id": "stub", "object": "chat.completion", "model": model, "choices": [choice]}


def _completion_body(
    top: list[tuple[str, float]] | None, *, text: str | None, model: str
) -> dict[str, Any]:
    """A text completion of ``text`` (after a space; None: ``<think>``), with ``top`` as
    alternatives (or none)."""
    logprobs = None
    if top is not None:
        logprobs = {
            "tokens": [top[0][0]],
            "token_logprobs": [_log(top[0][1])],
            "top_logprobs": [{t: _log(p) for t, p in top}],
            "text_offset": [0],
        }
    said = "<think>" if text is None else " " + text
    choice = {"index": 0, "text": said, "logprobs": logprobs, "finish_reason": "length"}
    return {"id": "stub", "object": "text_completion", "model": model, "choices": [choice]}


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free port of 127.0.0.1; yield its ``/v1`` base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="critical", access_log=False, lifespan="off", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10.0
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the stub server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10.0)
        sock.close()
