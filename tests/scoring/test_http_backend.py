"""The OpenAI-compatible HTTP backend against a stub server on 127.0.0.1 and a mock transport."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fixtures import query_rows

from jobimpact.errors import ConfigError, ScoringError, ScoringRefusedError
from jobimpact.pipeline import run_score
from jobimpact.scoring.base import IncompleteBatchError, TaskPrompt, TaskScore, get_backend
from jobimpact.scoring.http_backend import (
    HTTPScorer,
    answer_from_logprobs,
    answer_from_text,
    normalise_token,
)
from jobimpact.scoring.rubric import Rubric, load_rubric
from jobimpact.store import open_store

from .openai_stub import (
    API_KEY,
    RETRY_AFTER_S,
    SLOW_S,
    StubState,
    create_app,
    intended_answer,
    serve,
)

KEY_ENV = "JOBIMPACT_HTTP_API_KEY"
ENV_MODEL = "JOBIMPACT_HTTP_MODEL"
ENV_BASE_URL = "JOBIMPACT_HTTP_BASE_URL"
TOL = 1e-6


@dataclass(frozen=True)
class Stub:
    """The running stub: where it listens and what it saw."""

    base_url: str
    state: StubState


@pytest.fixture(scope="module")
def stub_server() -> Iterator[Stub]:
    state = StubState()
    with serve(create_app(state)) as base_url:
        yield Stub(base_url=base_url, state=state)


@pytest.fixture
def stub(stub_server: Stub, monkeypatch: pytest.MonkeyPatch) -> Stub:
    """The stub with a clean record, and no API key in the environment."""
    stub_server.state.reset()
    monkeypatch.delenv(KEY_ENV, raising=False)
    return stub_server


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    return load_rubric()


@pytest.fixture(scope="module")
def one_question(rubric: Rubric) -> Rubric:
    """The default rubric cut to its first question, so a task is exactly one request."""
    return replace(rubric, questions=rubric.questions[:1])


def make_scorer(stub: Stub, **params: Any) -> HTTPScorer:
    """An HTTPScorer for the stub with tiny backoffs."""
    settings: dict[str, Any] = {
        "model": "stub",
        "base_url": stub.base_url,
        "backoff": 0.001,
        "timeout": 5.0,
    }
    return HTTPScorer(**(settings | params))


def chat_prompt(rubric: Rubric, item: TaskPrompt, key: str) -> str:
    """The user message the stub derives a chat answer from."""
    return rubric.user_message(occupation=item.occupation, task=item.task, key=key)


def plain_prompt(rubric: Rubric, item: TaskPrompt, key: str) -> str:
    """The completion prompt: the plain-text layout of a local model without a chat template."""
    return rubric.system + "\n\n" + chat_prompt(rubric, item, key) + "\nAnswer:"


def assert_matches_stub(
    results: list[TaskScore], items: list[TaskPrompt], rubric: Rubric, *, chat: bool = True
) -> None:
    """Each result is the stub's intended answer for its own task, in input order."""
    assert [r.task_id for r in results] == [i.task_id for i in items]
    for result, item in zip(results, items, strict=True):
        assert tuple(result.answers) == rubric.keys and result.feature is None
        for key, answer in result.answers.items():
            prompt = chat_prompt(rubric, item, key) if chat else plain_prompt(rubric, item, key)
            p_yes, mass = intended_answer(prompt)
            assert answer.p_yes == pytest.approx(p_yes, abs=TOL)
            assert answer.answer_mass == pytest.approx(mass, abs=TOL)


def task(text: str, task_id: str = "t0") -> list[TaskPrompt]:
    return [TaskPrompt(occupation="Financial Analysts", task=text, task_id=task_id)]


# --- scores ---------------------------------------------------------------------------------


def test_chat_scores_are_the_servers_probabilities_in_input_order(
    stub: Stub, tasks: list[TaskPrompt], rubric: Rubric
) -> None:
    scorer = make_scorer(stub, concurrency=8)
    assert scorer.feature_dim is None and scorer.model_id == "http:stub@127.0.0.1"
    results = scorer.score(tasks)
    assert_matches_stub(results, tasks, rubric)
    assert len(stub.state.bodies) == len(tasks) * len(rubric.keys)
    assert stub.state.max_in_flight > 1
    body = stub.state.bodies[0]
    assert body["messages"][0] == {"role": "system", "content": rubric.system}
    assert (body["temperature"], body["max_tokens"], body["logprobs"]) == (0, 1, True)
    assert body["top_logprobs"] == 20 and body["model"] == "stub"


def test_completions_get_the_plain_text_prompt(
    stub: Stub, tasks: list[TaskPrompt], rubric: Rubric
) -> None:
    scorer = make_scorer(stub, endpoint="completions", top_logprobs=10)
    assert scorer.model_id == "http:stub@127.0.0.1#completions"
    results = scorer.score(tasks[:3])
    assert_matches_stub(results, tasks[:3], rubric, chat=False)
    sent = {body["prompt"] for body in stub.state.bodies}
    assert plain_prompt(rubric, tasks[0], "direct") in sent
    assert {body["logprobs"] for body in stub.state.bodies} == {10}


def test_concurrency_bounds_the_requests_in_flight(stub: Stub, tasks: list[TaskPrompt]) -> None:
    make_scorer(stub, model="unhurried", concurrency=3).score(tasks)
    assert stub.state.max_in_flight == 3
    stub.state.reset()
    make_scorer(stub, model="unhurried", concurrency=1).score(tasks[:2])
    assert stub.state.max_in_flight == 1


# --- retries and failures -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "attempts"),
    [("fail2", 3), ("badjson", 2), ("drop", 2), ("slow", 2)],
)
def test_transient_failures_are_retried(
    stub: Stub, one_question: Rubric, marker: str, attempts: int
) -> None:
    items = task(f"Write quarterly reports. [{marker}]")
    scorer = make_scorer(stub, rubric=one_question, timeout=0.3, max_retries=2)
    assert 3 * scorer.timeout < SLOW_S
    results = scorer.score(items)
    assert_matches_stub(results, items, one_question)
    assert stub.state.attempts[chat_prompt(one_question, items[0], "direct")] == attempts


def test_a_rate_limit_waits_as_long_as_retry_after_says(stub: Stub, one_question: Rubric) -> None:
    items = task("Write quarterly reports. [busy]")
    started = time.monotonic()
    results = make_scorer(stub, rubric=one_question).score(items)
    assert time.monotonic() - started >= RETRY_AFTER_S
    assert_matches_stub(results, items, one_question)
    assert stub.state.attempts[chat_prompt(one_question, items[0], "direct")] == 2


def test_a_persistent_server_error_names_url_task_and_question(
    stub: Stub, one_question: Rubric
) -> None:
    items = task("Write quarterly reports. [down]")
    with pytest.raises(IncompleteBatchError) as failure:
        make_scorer(stub, rubric=one_question, max_retries=4).score(items)
    assert failure.value.scores == [None]
    assert failure.value.reasons == [
        f"{stub.base_url}/chat/completions, task t0, question 'direct': "
        "got HTTP 500 after 5 attempts, expected 200"
    ]
    assert stub.state.attempts[chat_prompt(one_question, items[0], "direct")] == 5


def test_a_refused_key_fails_at_once_naming_the_variable(
    stub: Stub, one_question: Rubric, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = task("Write quarterly reports.")
    scorer = make_scorer(stub, model="needs-key", rubric=one_question)
    prefix = f"{stub.base_url}/chat/completions, task t0, question 'direct': "
    refused = f"got HTTP 401 (invalid API key), expected 200; the API key (${KEY_ENV}) "
    with pytest.raises(ScoringError) as failure:
        scorer.score(items)
    assert str(failure.value) == prefix + refused + "was not given"
    assert len(stub.state.bodies) == 1 and stub.state.authorizations == [None]

    monkeypatch.setenv(KEY_ENV, "wrong-key")
    scorer = make_scorer(stub, model="needs-key", rubric=one_question)
    with pytest.raises(ScoringError) as failure:
        scorer.score(items)
    assert str(failure.value) == prefix + refused + "was sent and refused"

    monkeypatch.setenv(KEY_ENV, API_KEY)
    scorer = make_scorer(stub, model="needs-key", rubric=one_question)
    assert_matches_stub(scorer.score(items), items, one_question)
    assert stub.state.authorizations[-1] == f"Bearer {API_KEY}"
    assert API_KEY not in scorer.model_id and API_KEY not in repr(vars(scorer))


def test_a_bad_request_fails_at_once_with_the_servers_reason(
    stub: Stub, one_question: Rubric
) -> None:
    with pytest.raises(ScoringRefusedError) as failure:
        make_scorer(stub, rubric=one_question, top_logprobs=25).score(task("Draft a memo."))
    assert str(failure.value).endswith(
        "question 'direct': got HTTP 400 (top_logprobs: got 25, expected at most 20), expected "
        "200; the server refuses the log-probabilities asked for: try --no-logprobs to read "
        "each answer from the text (P(Yes) 0 or 1), or --endpoint completions"
    )
    assert len(stub.state.bodies) == 1


@pytest.mark.parametrize("endpoint", ["chat", "completions"])
def test_without_logprobs_the_text_answer_counts_and_is_flagged(
    stub: Stub, tasks: list[TaskPrompt], rubric: Rubric, endpoint: str
) -> None:
    scorer = make_scorer(stub, model="no-logprobs", endpoint=endpoint)
    results = scorer.score(tasks)
    prompt = chat_prompt if endpoint == "chat" else plain_prompt
    for result, item in zip(results, tasks, strict=True):
        for key, answer in result.answers.items():
            said_yes = intended_answer(prompt(rubric, item, key))[0] >= 0.5
            assert answer.p_yes == (1.0 if said_yes else 0.0)
            assert math.isnan(answer.answer_mass)


def test_an_answer_that_is_neither_yes_nor_no_is_an_error(stub: Stub, one_question: Rubric) -> None:
    items = task("Weigh options. [maybe]", "t9") + task("Draft a memo.", "t1")
    with pytest.raises(IncompleteBatchError) as failure:
        make_scorer(stub, rubric=one_question).score(items)
    assert failure.value.reasons == [
        f"{stub.base_url}/chat/completions, task t9, question 'direct': "
        "got 'Maybe' (no Yes or No among 3 top tokens), expected Yes or No",
        None,
    ]
    # at temperature 0 the same prompt gets the same answer: it is not asked again
    assert stub.state.attempts[chat_prompt(one_question, items[0], "direct")] == 1


# --- event loops ----------------------------------------------------------------------------


def test_score_batch_works_inside_a_running_event_loop(
    stub: Stub, tasks: list[TaskPrompt], rubric: Rubric
) -> None:
    scorer = make_scorer(stub)

    async def from_a_coroutine() -> tuple[list[TaskScore], list[TaskScore]]:
        blocking = scorer.score_batch(tasks[:2])  # runs its loop in a worker thread
        awaited = await scorer.ascore_batch(tasks[2:4])
        return blocking, awaited

    blocking, awaited = asyncio.run(from_a_coroutine())
    assert_matches_stub(blocking, tasks[:2], rubric)
    assert_matches_stub(awaited, tasks[2:4], rubric)


# --- mock transport, answers, configuration -------------------------------------------------


def test_a_mock_transport_sees_the_exact_request(
    one_question: Rubric, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[httpx.Request] = []
    top = [("Yes", 0.3), ("No", 0.2), ("\u0120Yes", 0.1), ("Sure", 0.1)]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        entry = {"token": "Yes", "logprob": math.log(0.3)}
        entry["top_logprobs"] = [{"token": t, "logprob": math.log(p)} for t, p in top]
        choice = {"message": {"content": "Yes"}, "logprobs": {"content": [entry]}}
        return httpx.Response(200, json={"choices": [choice]})

    monkeypatch.setenv(KEY_ENV, "sk-test-secret")
    scorer = HTTPScorer(
        model="m",
        base_url="https://api.example.org/v1/",
        rubric=one_question,
        top_logprobs=4,
        transport=httpx.MockTransport(handler),
    )
    [result] = scorer.score(task("Draft a memo."))
    assert result.answers["direct"].p_yes == pytest.approx(0.4 / 0.6, abs=1e-12)
    assert result.answers["direct"].answer_mass == pytest.approx(0.6, abs=1e-12)
    [request] = seen
    assert str(request.url) == "https://api.example.org/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-test-secret"
    assert request.headers["User-Agent"].startswith("jobimpact/")
    item = task("Draft a memo.")[0]
    assert json.loads(request.content) == {
        "model": "m",
        "temperature": 0,
        "max_tokens": 1,
        "messages": [
            {"role": "system", "content": one_question.system},
            {"role": "user", "content": chat_prompt(one_question, item, "direct")},
        ],
        "logprobs": True,
        "top_logprobs": 4,
    }
    assert "sk-test-secret" not in scorer.model_id + repr(vars(scorer))


def test_answers_add_up_every_spelling_of_yes_and_no() -> None:
    assert [normalise_token(t) for t in ("Yes", " yes", "\u0120YES", "\u2581No\n")] == [
        "yes",
        "yes",
        "yes",
        "no",
    ]
    top = [("Yes", math.log(0.2)), (" yes", math.log(0.1)), ("No", math.log(0.3))]
    answer = answer_from_logprobs(top, yes="Yes", no="No")
    assert answer is not None
    assert (answer.p_yes, answer.answer_mass) == pytest.approx((0.5, 0.6))
    assert answer_from_logprobs([("Maybe", 0.0)], yes="Yes", no="No") is None
    assert answer_from_text(" No.", yes="Yes", no="No") == answer_from_text(
        "no", yes="Yes", no="No"
    )
    text_answer = answer_from_text("Yes, it can", yes="Yes", no="No")
    assert text_answer is not None and text_answer.p_yes == 1.0
    assert math.isnan(text_answer.answer_mass)
    assert answer_from_text("Yesterday", yes="Yes", no="No") is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"model": "m"},
            "HTTP backend base_url: got nothing (no argument and $JOBIMPACT_HTTP_BASE_URL "
            "unset), expected http://127.0.0.1:8000/v1",
        ),
        (
            {"base_url": "http://127.0.0.1:8000/v1"},
            "HTTP backend model: got nothing (no argument and $JOBIMPACT_HTTP_MODEL unset), "
            "expected a served model name",
        ),
        (
            {"model": "m", "base_url": "ftp://mirror.example.org/v1"},
            "HTTP backend base_url: got 'ftp://mirror.example.org/v1', expected an http:// "
            "or https:// URL such as http://127.0.0.1:8000/v1",
        ),
        (
            {"model": "m", "base_url": "http://h/v1", "endpoint": "embeddings"},
            "HTTP backend endpoint: got 'embeddings', expected 'chat' or 'completions'",
        ),
        (
            {"model": "m", "base_url": "http://h/v1", "concurrency": 0},
            "HTTP backend concurrency: got 0, expected an integer >= 1",
        ),
        (
            {"model": "m", "base_url": "http://h/v1", "timeout": 0},
            "HTTP backend timeout: got 0, expected a positive number",
        ),
    ],
)
def test_configuration_errors_say_what_was_expected(
    params: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_MODEL, raising=False)
    monkeypatch.delenv(ENV_BASE_URL, raising=False)
    with pytest.raises(ConfigError) as failure:
        HTTPScorer(**params)
    assert str(failure.value) == message


def test_settings_come_from_the_environment_and_the_id_keeps_no_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_MODEL, "Qwen/Qwen2.5-7B-Instruct")
    monkeypatch.setenv(ENV_BASE_URL, "https://user:pw@api.example.org:8443/v1/")
    scorer = get_backend("http")
    assert isinstance(scorer, HTTPScorer) and scorer.backend_name == "http"
    assert scorer.model_id == "http:Qwen/Qwen2.5-7B-Instruct@api.example.org"
    assert scorer.url == "https://user:pw@api.example.org:8443/v1/chat/completions"


# --- the pipeline ---------------------------------------------------------------------------

TASK_TEXTS = """
SELECT s.task_id, s.question, s.p_yes, s.answer_mass, o.title, t.task
FROM task_scores AS s JOIN tasks AS t USING (task_id) JOIN occupations AS o USING (onet_soc_code)
WHERE s.model_id = ?
"""


def test_the_pipeline_stores_http_scores(stub: Stub, db: Path, rubric: Rubric) -> None:
    result = run_score(db=db, scorer=make_scorer(stub), limit=10)
    assert (result.scored, result.failed, result.model_id) == (10, 0, "http:stub@127.0.0.1")
    assert query_rows(db, "SELECT count(*), count(DISTINCT task_id) FROM task_scores") == [(40, 10)]
    assert query_rows(db, "SELECT count(*) FROM task_features") == [(0,)]
    for _, question, p_yes, mass, title, text in _rows(db, result.model_id):
        item = TaskPrompt(occupation=str(title), task=str(text))
        assert (p_yes, mass) == pytest.approx(
            intended_answer(chat_prompt(rubric, item, str(question))), abs=TOL
        )

    flagged = run_score(db=db, scorer=make_scorer(stub, model="no-logprobs"), limit=10)
    rows = _rows(db, flagged.model_id)
    assert len(rows) == 40
    assert all(mass is None and p_yes in (0.0, 1.0) for _, _, p_yes, mass, _, _ in rows)


def _rows(db: Path, model_id: str) -> list[tuple[Any, ...]]:
    """task_scores rows of one model with the task's occupation title and text."""
    with open_store(db, read_only=True) as con:
        rows: list[tuple[Any, ...]] = con.execute(TASK_TEXTS, [model_id]).fetchall()
    return rows
