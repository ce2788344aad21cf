"""Faults real servers produce, against the stub on 127.0.0.1: malformed log-probabilities,
rate limits, refusals that will not change, and answers without log-probabilities."""

from __future__ import annotations

import asyncio
import importlib
import json
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tenacity
from click.testing import CliRunner
from fixtures import query_rows

from jobimpact.cli import cli
from jobimpact.errors import ScoringError, ScoringRefusedError
from jobimpact.pipeline import run_score
from jobimpact.scoring.base import IncompleteBatchError, QuestionScore, TaskPrompt, TaskScore
from jobimpact.scoring.fake import FakeScorer
from jobimpact.scoring.http_answers import answer_from_logprobs
from jobimpact.scoring.http_backend import HTTPScorer
from jobimpact.scoring.http_limits import AdaptiveLimit, RetryBudget, Transient
from jobimpact.scoring.rubric import Rubric, load_rubric
from jobimpact.store import open_store

from .openai_stub import StubState, create_app, intended_answer, serve

KEY_ENV = "JOBIMPACT_HTTP_API_KEY"
RATE = 10  # requests a second the rate-limited stub admits
N_TASKS = 12  # tasks of the fixture store


@dataclass(frozen=True)
class Stub:
    base_url: str
    state: StubState


@pytest.fixture(scope="module")
def stub_server() -> Iterator[Stub]:
    state = StubState()
    with serve(create_app(state)) as base_url:
        yield Stub(base_url=base_url, state=state)


@pytest.fixture
def stub(stub_server: Stub, monkeypatch: pytest.MonkeyPatch) -> Stub:
    stub_server.state.reset()
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv("JOBIMPACT_HTTP_BASE_URL", stub_server.base_url)
    return stub_server


@pytest.fixture(scope="module")
def limited_server() -> Iterator[Stub]:
    state = StubState()
    with serve(create_app(state, rate=RATE)) as base_url:
        yield Stub(base_url=base_url, state=state)


@pytest.fixture(scope="module")
def one_question() -> Rubric:
    rubric = load_rubric()
    return replace(rubric, questions=rubric.questions[:1])


def make_scorer(stub: Stub, **params: Any) -> HTTPScorer:
    settings: dict[str, Any] = {
        "model": "stub",
        "base_url": stub.base_url,
        "backoff": 0.001,
        "timeout": 5.0,
    }
    return HTTPScorer(**(settings | params))


def tasks(*texts: str) -> list[TaskPrompt]:
    return [
        TaskPrompt(occupation="Financial Analysts", task=text, task_id=f"t{i}")
        for i, text in enumerate(texts)
    ]


def prompt_of(rubric: Rubric, item: TaskPrompt, key: str = "direct") -> str:
    return rubric.user_message(occupation=item.occupation, task=item.task, key=key)


def mark_task(db: Path, marker: str) -> int:
    """Append a fault marker to the text of the store's first task; return its id."""
    with open_store(db) as con:
        row = con.execute("SELECT min(task_id) FROM tasks").fetchone()
        assert row is not None
        con.execute("UPDATE tasks SET task = task || ? WHERE task_id = ?", [f" {marker}", row[0]])
    return int(row[0])


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


# --- 1. non-finite or impossible log-probabilities ------------------------------------------

MALFORMED = {
    "nan": "logprob nan for token 'Yes'",
    "posinf": "logprob inf for token 'Yes'",
    "positive": "logprob 0.5 for token 'Yes'",
    "mass": "an answer mass of 1.5 on the Yes and No tokens",
}


@pytest.mark.parametrize("marker", sorted(MALFORMED))
def test_malformed_logprobs_are_retried_then_fail_their_task_alone(
    stub: Stub, one_question: Rubric, marker: str
) -> None:
    items = tasks(f"Write quarterly reports. [{marker}]", "Draft a memo.")
    with pytest.raises(IncompleteBatchError) as failure:
        make_scorer(stub, rubric=one_question, max_retries=2).score(items)
    expected = "at most 1" if marker == "mass" else "a finite log-probability <= 0"
    assert failure.value.reasons == [
        f"{stub.base_url}/chat/completions, task t0, question 'direct': "
        f"got {MALFORMED[marker]} after 3 attempts, expected {expected}",
        None,
    ]
    assert stub.state.attempts[prompt_of(one_question, items[0])] == 3
    # the well-formed task of the same batch is kept, with the server's answer
    kept = failure.value.scores[1]
    assert failure.value.scores[0] is None and kept is not None
    p_yes, mass = intended_answer(prompt_of(one_question, items[1]))
    assert kept.answers["direct"].p_yes == pytest.approx(p_yes, abs=1e-9)
    assert kept.answers["direct"].answer_mass == pytest.approx(mass, abs=1e-9)


def test_a_malformed_answer_that_is_right_on_retry_is_kept(
    stub: Stub, one_question: Rubric
) -> None:
    items = tasks("Write quarterly reports. [nan1]")
    [result] = make_scorer(stub, rubric=one_question).score(items)
    p_yes, mass = intended_answer(prompt_of(one_question, items[0]))
    assert (result.answers["direct"].p_yes, result.answers["direct"].answer_mass) == (
        pytest.approx(p_yes, abs=1e-9),
        pytest.approx(mass, abs=1e-9),
    )
    assert stub.state.attempts[prompt_of(one_question, items[0])] == 2


def test_logprobs_of_zero_probability_and_rounding_are_read() -> None:
    top = [("Yes", -math.inf), ("No", 0.0), ("Maybe", -30.0)]
    answer = answer_from_logprobs(top, yes="Yes", no="No")
    assert answer is not None and (answer.p_yes, answer.answer_mass) == (0.0, 1.0)
    rounded = answer_from_logprobs([("Yes", 1e-9)], yes="Yes", no="No")
    assert rounded is not None and (rounded.p_yes, rounded.answer_mass) == (1.0, 1.0)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ((math.nan, 0.5), "answer: got P(Yes) nan, expected a finite number in [0, 1]"),
        ((1.5, 0.5), "answer: got P(Yes) 1.5, expected a finite number in [0, 1]"),
        ((0.5, math.inf), "answer: got answer mass inf, expected a finite number in [0, 1]"),
        ((0.5, math.nan), "answer: got answer mass nan, expected a finite number in [0, 1]"),
        ((0.5, -0.1), "answer: got answer mass -0.1, expected a finite number in [0, 1]"),
    ],
)
def test_an_answer_is_checked_where_it_is_made(values: tuple[float, float], message: str) -> None:
    with pytest.raises(ScoringError) as failure:
        QuestionScore(*values)
    assert str(failure.value) == message
    assert QuestionScore(1.0, math.nan, from_text=True).from_text


def test_the_run_records_the_malformed_task_and_goes_on(stub: Stub, db: Path) -> None:
    bad = mark_task(db, "[nan]")
    scorer = make_scorer(stub, max_retries=1)
    result = run_score(db=db, scorer=scorer, batch_size=4)
    assert (result.scored, result.failed) == (N_TASKS - 1, 1)
    [(task_id, reason)] = query_rows(db, "SELECT task_id, reason FROM scoring_failures")
    assert task_id == bad
    assert re.fullmatch(
        re.escape(f"{stub.base_url}/chat/completions, task {bad}, question ")
        + r"'\w+': got logprob nan for token 'Yes' after 2 attempts, expected a finite "
        r"log-probability <= 0",
        reason,
    ), reason
    # nothing non-finite reached the store, and the batch's other tasks are there
    assert query_rows(
        db,
        "SELECT count(*), count(DISTINCT task_id), "
        "count(*) FILTER (WHERE isfinite(p_yes) AND isfinite(answer_mass)) FROM task_scores",
    ) == [(4 * (N_TASKS - 1), N_TASKS - 1, 4 * (N_TASKS - 1))]
    assert query_rows(db, "SELECT status FROM runs WHERE stage = 'score'") == [("done",)]


class SmugglingScorer(FakeScorer):
    """A backend whose answers skip QuestionScore's check: NaN P(Yes) for the first task,
    an infinite feature for the second."""

    def score_batch(self, items: Any) -> list[TaskScore]:
        results = super().score_batch(items)
        if results:
            answer = results[0].answers["direct"]
            object.__setattr__(answer, "p_yes", math.nan)
        if len(results) > 1 and results[1].feature is not None:
            results[1].feature[0] = np.inf
        return results


def test_nothing_non_finite_reaches_the_store_from_any_backend(db: Path) -> None:
    result = run_score(db=db, scorer=SmugglingScorer(), batch_size=N_TASKS)
    assert (result.scored, result.failed) == (N_TASKS - 2, 2)
    reasons = [r for (r,) in query_rows(db, "SELECT reason FROM scoring_failures ORDER BY 1")]
    first, second = sorted(query_rows(db, "SELECT task_id FROM tasks ORDER BY 1"))[:2]
    assert reasons == sorted(
        [
            f"fake:seed=0, task {first[0]}, question 'direct': got P(Yes) nan, expected a "
            "finite number in [0, 1]",
            f"fake:seed=0, task {second[0]}: got a feature vector with 1 non-finite values, "
            "expected finite numbers",
        ]
    )
    assert query_rows(db, "SELECT count(*) FROM task_scores WHERE NOT isfinite(p_yes)") == [(0,)]


class AlwaysFailing(FakeScorer):
    """A backend that fails every batch."""

    def score_batch(self, items: Any) -> list[TaskScore]:
        raise ScoringError("the model returned no logits")


# --- 2. rate limits --------------------------------------------------------------------------


def test_the_adaptive_limit_halves_on_rate_limits_and_grows_slowly() -> None:
    async def scenario() -> list[float]:
        limit = AdaptiveLimit(8)
        seen = [limit.limit]
        async with limit.slot() as first, limit.slot() as second:
            assert first == second == 0
            limit.rate_limited(first, None)
            limit.rate_limited(second, None)  # sent before the cut: the same congestion
        seen.append(limit.limit)
        async with limit.slot() as third:
            limit.rate_limited(third, None)
        seen.append(limit.limit)
        for _ in range(4):
            async with limit.slot() as sent:
                limit.rate_limited(sent, None)
        seen.append(limit.limit)  # never below one
        limit.answered()
        seen.append(limit.limit)  # 1 + 1/1
        limit.answered()
        limit.answered()
        seen.append(limit.limit)  # + 1/2 + 1/2.5
        for _ in range(200):
            limit.answered()
        seen.append(limit.limit)  # never above the configured concurrency
        return seen

    assert asyncio.run(scenario()) == pytest.approx([8, 4, 2, 1, 2, 2.9, 8])


def test_the_adaptive_limit_bounds_requests_in_flight_and_holds_them_after_retry_after() -> None:
    async def scenario() -> tuple[int, float]:
        limit = AdaptiveLimit(8)
        limit.limit = 2.0
        in_flight = most = 0

        async def request() -> None:
            nonlocal in_flight, most
            async with limit.slot():
                in_flight += 1
                most = max(most, in_flight)
                await asyncio.sleep(0.01)
                in_flight -= 1

        await asyncio.gather(*(request() for _ in range(10)))
        async with limit.slot() as sent:
            limit.rate_limited(sent, 0.3)
        started = time.monotonic()
        await request()
        return most, time.monotonic() - started

    most, held = asyncio.run(scenario())
    assert most == 2
    assert held >= 0.3


def test_rate_limits_have_their_own_larger_budget_and_waits_have_jitter() -> None:
    budget = RetryBudget(transient=1, rate_limited=3, backoff=0.4)
    state: tenacity.RetryCallState = None  # type: ignore[assignment]  # not read
    limited = Transient("HTTP 429", "200", retry_after=1.0, rate_limited=True)
    waits = []
    for _ in range(3):
        budget.count(limited)
        assert not budget.exhausted(state)
        waits.append(budget.wait(state))
    assert all(1.0 <= wait <= 1.25 for wait in waits) and len(set(waits)) == 3
    budget.count(Transient("HTTP 500", "200"))
    assert not budget.exhausted(state) and 0.0 <= budget.wait(state) <= 0.4
    budget.count(limited)
    assert budget.exhausted(state)  # the fourth rate limit
    other = RetryBudget(transient=1, rate_limited=3, backoff=0.4)
    other.count(Transient("HTTP 500", "200"))
    other.count(Transient("HTTP 500", "200"))
    assert other.exhausted(state)  # the second transient failure


def test_a_rate_limit_does_not_spend_the_transient_budget(stub: Stub, one_question: Rubric) -> None:
    items = tasks("Write quarterly reports. [busy]")
    [result] = make_scorer(stub, rubric=one_question, max_retries=0).score(items)
    assert result.answers["direct"].answer_mass > 0
    assert stub.state.attempts[prompt_of(one_question, items[0])] == 2


@pytest.mark.slow
def test_a_rate_limited_run_completes_in_the_time_the_limit_allows(
    limited_server: Stub, db: Path
) -> None:
    limited_server.state.reset()
    scorer = make_scorer(limited_server, backoff=0.5)  # default budgets and concurrency
    started = time.monotonic()
    result = run_score(db=db, scorer=scorer, batch_size=16)
    elapsed = time.monotonic() - started
    n_requests = 4 * N_TASKS
    windows = math.ceil(n_requests / RATE)
    assert (result.scored, result.failed) == (N_TASKS, 0)
    # every request was answered exactly once: no answered request was thrown away
    assert sum(limited_server.state.answered.values()) == n_requests
    assert set(limited_server.state.answered.values()) == {1}
    # the last window opens (windows - 1) s after the first; Retry-After comes in whole
    # seconds, each retry adds up to a quarter of it, and the machine may be busy
    assert windows - 1 <= elapsed <= 2 * windows + 2, elapsed
    # a few refused requests per window, not every waiting one
    assert limited_server.state.rate_limited <= 8 * windows, limited_server.state.rate_limited
    print(
        f"rate-limited run: {n_requests} requests at {RATE}/s in {elapsed:.2f} s, "
        f"{limited_server.state.rate_limited} answered 429, limit cut {scorer.limit.cuts} times"
    )


# --- 3. refusals that will not change -------------------------------------------------------


def test_a_server_refusing_logprobs_stops_the_run_at_once_and_text_mode_works(
    stub: Stub, db: Path
) -> None:
    base = ["score", "--db", str(db), "--backend", "http", "--model", "refuses-logprobs"]
    code, output = invoke(*base)
    assert code == 1
    assert re.fullmatch(
        re.escape(f"Error: {stub.base_url}/chat/completions, task ")
        + r"\d+, question '\w+': "
        + re.escape(
            "got HTTP 400 (logprobs not supported), expected 200; the server refuses the "
            "log-probabilities asked for: try --no-logprobs to read each answer from the text "
            "(P(Yes) 0 or 1), or --endpoint completions"
        )
        + "\n",
        output,
    ), output
    # stopped with the first answer: not every batch sent again
    assert len(stub.state.bodies) <= 8
    assert query_rows(db, "SELECT count(*) FROM task_scores") == [(0,)]
    [(status, error)] = query_rows(db, "SELECT status, error FROM runs WHERE stage = 'score'")
    assert status == "failed" and error == output.removeprefix("Error: ").strip()

    stub.state.reset()
    code, output = invoke(*base, "--no-logprobs")
    assert code == 0, output
    assert output == (
        f"http:refuses-logprobs@127.0.0.1#text / rubric {load_rubric().hash[:12]}: "
        f"{N_TASKS} tasks scored, 0 already scored, 0 failed (of {N_TASKS} selected); "
        f"{4 * N_TASKS} answers read from text, not log-probabilities\n"
    )
    assert all("logprobs" not in body for body in stub.state.bodies)
    rows = query_rows(
        db,
        "SELECT method, count(*), count(answer_mass), min(p_yes IN (0, 1)::INT) "
        "FROM task_scores GROUP BY method",
    )
    assert rows == [("zero-shot-text", 4 * N_TASKS, 0, 1)]
    counts = query_rows(db, "SELECT counts FROM runs WHERE stage = 'score' AND status = 'done'")
    assert json.loads(counts[0][0])["text_answers"] == 4 * N_TASKS


@pytest.mark.parametrize(
    ("endpoint", "sign"),
    [
        ("chat", "first token '<think>', content null, reasoning_content set"),
        ("completions", "first token '<think>', text '<think>'"),
    ],
)
def test_a_reasoning_model_stops_the_run_saying_what_to_do(
    stub: Stub, db: Path, endpoint: str, sign: str
) -> None:
    code, output = invoke(
        "score", "--db", str(db), "--backend", "http", "--model", "reasoning",
        "--endpoint", endpoint,
    )  # fmt: skip
    assert code == 1
    advice = "turn reasoning off on the server (e.g. enable_thinking false in its template)"
    if endpoint == "chat":
        advice += ", or use --endpoint completions (the prompt without the chat template)"
    path = "/chat/completions" if endpoint == "chat" else "/completions"
    assert re.fullmatch(
        re.escape(f"Error: {stub.base_url}{path}, task ")
        + r"\d+, question '\w+': "
        + re.escape(
            f"got a reasoning model's thinking ({sign}), expected Yes or No as the first "
            f"token; {advice}"
        )
        + "\n",
        output,
    ), output
    assert len(stub.state.bodies) <= 8


def test_a_wrong_url_stops_at_once_with_what_to_check(stub: Stub, one_question: Rubric) -> None:
    scorer = make_scorer(stub, base_url=stub.base_url.replace("/v1", "/v2"), rubric=one_question)
    scorer.answered = 5  # even after answers: a wrong URL is wrong for every request
    with pytest.raises(ScoringRefusedError) as refused:
        scorer.score(tasks("Draft a memo.", "Review contracts."))
    assert str(refused.value).endswith(
        "question 'direct': got HTTP 404 (Not Found), expected 200; check the base URL and "
        "that the server serves model 'stub' (or try --endpoint completions)"
    )
    assert stub.state.bodies == []


def test_a_refusal_after_answers_fails_its_task_and_a_refused_batch_stops(
    stub: Stub, one_question: Rubric
) -> None:
    scorer = make_scorer(stub, rubric=one_question)
    with pytest.raises(ScoringRefusedError):  # nothing answered yet: stop at once
        scorer.score(tasks("Review contracts. [toolong]"))
    scorer.score(tasks("Draft a memo."))
    with pytest.raises(IncompleteBatchError) as failure:
        scorer.score(tasks("Review contracts. [toolong]", "Draft a memo."))
    assert failure.value.reasons[1] is None and failure.value.scores[1] is not None
    assert failure.value.reasons[0] == (
        f"{stub.base_url}/chat/completions, task t0, question 'direct': got HTTP 400 (This "
        "model's maximum context length is 8 tokens), expected 200; the server refuses the "
        "request itself: check --model and the server's log; --no-logprobs sends a simpler "
        "request"
    )
    with pytest.raises(ScoringRefusedError) as refused:  # every request of a batch refused
        scorer.score(tasks("Review contracts. [toolong]", "Sign contracts. [toolong]"))
    assert "got HTTP 400 (This model's maximum context length" in str(refused.value)


def test_a_run_that_scored_nothing_fails_for_every_backend(db: Path) -> None:
    with pytest.raises(ScoringError) as failure:
        run_score(db=db, scorer=AlwaysFailing(), batch_size=5)
    [(run_id, status, counts)] = query_rows(
        db, "SELECT run_id, status, counts FROM runs WHERE stage = 'score'"
    )
    assert str(failure.value) == (
        f"fake:seed=0: got 0 of {N_TASKS} tasks scored, expected at least one; first reason: "
        f"the model returned no logits (every reason: scoring_failures, run {run_id})"
    )
    assert status == "failed"
    assert json.loads(counts) == {
        "selected": N_TASKS,
        "already_scored": 0,
        "scored": 0,
        "failed": N_TASKS,
        "text_answers": 0,
    }


def test_a_model_that_never_answers_yes_or_no_stops_after_one_batch(stub: Stub, db: Path) -> None:
    code, output = invoke(
        "score", "--db", str(db), "--backend", "http", "--model", "hedges", "--batch-size", "2"
    )
    assert code == 1
    assert re.fullmatch(
        re.escape(f"Error: {stub.base_url}/chat/completions, task ")
        + r"\d+, question '\w+': got 'Maybe' \(no Yes or No among 3 top tokens\), "
        r"expected Yes or No\n",
        output,
    ), output
    assert len(stub.state.bodies) == 2 * 4  # the first batch only


def test_score_and_run_exit_non_zero_when_nothing_was_scored(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobimpact.scoring.base import BACKENDS

    expected = f"Error: fake:seed=0: got 0 of {N_TASKS} tasks scored, expected at least one; "
    with BACKENDS.registered("test-failing", AlwaysFailing):
        code, output = invoke("score", "--db", str(db), "--backend", "test-failing")
        assert code == 1
        assert output.startswith(expected) and output.count("\n") == 1, output

        run_module = importlib.import_module("jobimpact.pipeline.run")
        monkeypatch.setattr(run_module, "_fetch", lambda settings: "fetched")
        monkeypatch.setattr(run_module, "_ingest", lambda settings: "ingested")
        code, output = invoke("run", "--db", str(db), "--backend", "test-failing")
        assert code == 1
        assert output.startswith(expected) and output.count("\n") == 1, output
    stages = query_rows(db, "SELECT stage, status FROM runs ORDER BY started_at")
    assert stages == [("ingest", "done"), ("score", "failed"), ("score", "failed")]


def test_text_mode_is_a_setting_that_only_text_capable_backends_take(stub: Stub) -> None:
    from jobimpact.errors import ConfigError
    from jobimpact.pipeline import make_scorer as scorer_for
    from jobimpact.settings import Settings

    settings = Settings.resolve(
        environ={"JOBIMPACT_LOGPROBS": "false", "JOBIMPACT_HTTP_ENDPOINT": "completions"},
        backend="http",
        model="stub",
        http_base_url=stub.base_url,
    )
    scorer = scorer_for(settings)
    assert isinstance(scorer, HTTPScorer) and scorer.answers_from_text
    assert scorer.model_id == "http:stub@127.0.0.1#completions+text"
    with pytest.raises(ConfigError) as wrong:
        Settings.resolve(environ={"JOBIMPACT_LOGPROBS": "maybe"})
    assert str(wrong.value) == "$JOBIMPACT_LOGPROBS: got 'maybe', expected true or false"
    fake = Settings.resolve(environ={"JOBIMPACT_LOGPROBS": "0"}, backend="fake")
    with pytest.raises(ConfigError) as refused:
        scorer_for(fake)
    assert str(refused.value) == (
        "scoring backend 'fake': got option logprobs, expected some of feature_dim, rubric, seed"
    )


# --- 4. answers without log-probabilities ---------------------------------------------------


@pytest.mark.parametrize("model", ["no-logprobs", "omits-logprobs"])
def test_missing_logprobs_are_counted_warned_and_reported(
    stub: Stub, db: Path, model: str, caplog: pytest.LogCaptureFixture
) -> None:
    from jobimpact.pipeline import run_aggregate
    from jobimpact.report.render import render_html
    from jobimpact.report.summarize import summarize_store

    result = run_score(db=db, scorer=make_scorer(stub, model=model))
    n_answers = 4 * N_TASKS
    assert (result.scored, result.text_answers) == (N_TASKS, n_answers)
    assert result.model_id == f"http:{model}@127.0.0.1"  # probabilities were asked for
    assert (
        f"http:{model}@127.0.0.1: {n_answers} of {n_answers} answers were read from the text, "
        "not from log-probabilities (the server sent none for them): their P(Yes) is 0 or 1, "
        "stored with method 'zero-shot-text' and answer_mass NULL"
    ) in caplog.messages
    counts = query_rows(db, "SELECT counts FROM runs WHERE stage = 'score'")[0][0]
    assert json.loads(counts)["text_answers"] == n_answers
    assert query_rows(db, "SELECT DISTINCT method FROM task_scores") == [("zero-shot-text",)]
    assert query_rows(db, "SELECT DISTINCT method FROM task_measures") == [("zero-shot-text",)]

    run_aggregate(db=db, n_boot=10)
    summary = summarize_store(db)
    scoring = summary["scoring"]
    assert (scoring["answers"], scoring["text_answers"], scoring["text_tasks"]) == (
        n_answers,
        n_answers,
        N_TASKS,
    )
    html = " ".join(render_html(summary, {}).split())  # the text, without the figures
    assert (
        "P(Yes) is read from the model's generated text: 1 for Yes, 0 for No. The server "
        "returned no log-probabilities, so no probability stands behind these scores."
    ) in html
    assert (
        f"<b>Answers read from text.</b> {n_answers} of {n_answers} zero-shot answers "
        f"({N_TASKS} tasks) were read from the model's generated text"
    ) in html
    assert "next-token distribution" not in html.split('<section id="method">')[1]


def test_logprob_answers_are_reported_as_such(stub: Stub, db: Path) -> None:
    from jobimpact.pipeline import run_aggregate
    from jobimpact.report.render import render_html
    from jobimpact.report.summarize import summarize_store

    result = run_score(db=db, scorer=make_scorer(stub))
    assert result.text_answers == 0
    assert query_rows(db, "SELECT DISTINCT method FROM task_scores") == [("zero-shot",)]
    run_aggregate(db=db, n_boot=10)
    summary = summarize_store(db)
    html = " ".join(render_html(summary, {}).split())
    assert "P(Yes) is read from the model's next-token distribution" in html
    assert "Answers read from text" not in html
    assert (summary["scoring"]["answers"], summary["scoring"]["text_answers"]) == (
        4 * N_TASKS,
        0,
    )
