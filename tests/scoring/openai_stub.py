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
  top tokens;
- the model name: ``no-logprobs`` answers in text only; ``needs-key`` wants the header
  ``Authorization: Bearer stub-key``; ``unhurried`` takes :data:`UNHURRIED_S` per request.

:class:`StubState` records what arrived and the most requests that were in flight at once.
"""

from __future__ import annotations

import asyncio
import hashlib
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
    in_flight: int = 0
    max_in_flight: int = 0

    def reset(self) -> None:
        """Forget everything (the server itself keeps running)."""
        self.bodies.clear()
        self.authorizations.clear()
        self.attempts.clear()
        self.in_flight = self.max_in_flight = 0


def create_app(state: StubState) -> FastAPI:
    """The stub application, recording into ``state``."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        return await _serve(state, request, chat=True)

    @app.post("/v1/completions")
    async def completions(request: Request) -> Response:
        return await _serve(state, request, chat=False)

    return app


async def _serve(state: StubState, request: Request, *, chat: bool) -> Response:
    """Record the request, count it in flight, and answer it."""
    body = await request.json()
    state.bodies.append(body)
    state.authorizations.append(request.headers.get("Authorization"))
    prompt = str(body["messages"][-1]["content"] if chat else body["prompt"])
    state.attempts[prompt] += 1
    state.in_flight += 1
    state.max_in_flight = max(state.max_in_flight, state.in_flight)
    try:
        return await _answer(
            body,
            prompt,
            attempt=state.attempts[prompt],
            chat=chat,
            authorization=request.headers.get("Authorization"),
        )
    finally:
        state.in_flight -= 1


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
    fault = await _fault(prompt, attempt)
    if fault is not None:
        return fault
    # A small prompt-dependent delay, so that answers come back out of order.
    delay = UNHURRIED_S if model == "unhurried" else intended_answer(prompt)[0] / 50
    await asyncio.sleep(delay)
    hedging = "maybe" in _markers(prompt)
    top = token_distribution(prompt, hedging=hedging)[: _wanted(body, chat=chat)]
    make = _chat_body if chat else _completion_body
    if model == "no-logprobs":
        # A server that cannot give log-probabilities still answers the likelier word.
        word = "Yes" if intended_answer(prompt)[0] >= 0.5 else "No"
        return JSONResponse(make(None, text=word, model=str(model)))
    return JSONResponse(make(top, text=top[0][0], model=str(model)))


def _check_request(body: dict[str, Any], *, chat: bool) -> str:
    """What is wrong with a request for one greedy token with log-probabilities, or ''."""
    if body.get("temperature") != 0 or body.get("max_tokens") != 1:
        return "expected temperature 0 and max_tokens 1"
    wanted = body.get("top_logprobs") if chat else body.get("logprobs")
    if chat and body.get("logprobs") is not True:
        return "expected logprobs: true"
    if not isinstance(wanted, int) or not 0 <= wanted <= MAX_TOP_LOGPROBS:
        return f"top_logprobs: got {wanted!r}, expected at most {MAX_TOP_LOGPROBS}"
    return ""


def _wanted(body: dict[str, Any], *, chat: bool) -> int:
    """How many alternatives the request asked for."""
    return int(body["top_logprobs"] if chat else body["logprobs"])


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


def _chat_body(top: list[tuple[str, float]] | None, *, text: str, model: str) -> dict[str, Any]:
    """A chat completion answering ``text``, with ``top`` as its alternatives (or none)."""
    logprobs = None
    if top is not None:
        entry = {
            "token": top[0][0],
            "logprob": math.log(top[0][1]),
            "bytes": list(top[0][0].encode()),
            "top_logprobs": [{"token": t, "logprob": math.log(p)} for t, p in top],
        }
        logprobs = {"content": [entry]}
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": text.strip()},
        "logprobs": logprobs,
        "finish_reason": "length",
    }
    return {"id": "stub", "object": "chat.completion", "model": model, "choices": [choice]}


def _completion_body(
    top: list[tuple[str, float]] | None, *, text: str, model: str
) -> dict[str, Any]:
    """A text completion of ``text`` (after a space), with ``top`` as alternatives (or none)."""
    logprobs = None
    if top is not None:
        logprobs = {
            "tokens": [top[0][0]],
            "token_logprobs": [math.log(top[0][1])],
            "top_logprobs": [{t: math.log(p) for t, p in top}],
            "text_offset": [0],
        }
    choice = {"index": 0, "text": " " + text, "logprobs": logprobs, "finish_reason": "length"}
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
