"""Reading an answer out of an OpenAI-compatible completion: P(Yes) from the top
log-probabilities of the answer token, else from the text, and the checks that tell a
usable answer from a malformed one or from a reasoning model's thinking.

P(Yes) is the probability of the top tokens that read as the rubric's Yes word,
renormalised over those that read as Yes or No; ``answer_mass`` is their total
probability. A server that returns no log-probabilities (or none for Yes or No) still
answers in text: "Yes" gives P(Yes) = 1, "No" gives 0, flagged ``from_text`` with
``answer_mass`` NaN (the store keeps it as NULL, ``method = 'zero-shot-text'``).

A log-probability must be a number ≤ 0: NaN, +inf, a positive value, a string, or Yes and
No tokens holding more than all the probability are a malformed response
(:class:`MalformedAnswer`), which the backend retries and then reports. A null or -inf
log-probability is read as probability 0 (log 0; some servers write -inf as null).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from jobimpact.scoring.base import QuestionScore

__all__ = [
    "TEXT_ANSWER_MASS",
    "MalformedAnswer",
    "answer_from_logprobs",
    "answer_from_text",
    "choice_text",
    "normalise_token",
    "thinking",
    "top_tokens",
]

#: ``answer_mass`` of an answer read from the returned text: there was no distribution.
TEXT_ANSWER_MASS = math.nan
# Float rounding a server may leave in a log-probability of ~0, or in a mass of ~1.
ROUNDING = 1e-6
# Leading markers of a word start in byte-level BPE (Ġ) and SentencePiece (▁) vocabularies.
_WORD_START_MARKS = "\u0120\u2581"
_FIRST_WORD = re.compile(r"[^\W_]+")
# How reasoning models open their thinking (DeepSeek-R1, Qwen3, QwQ and others use <think>).
_THINKING_TAGS = ("<think", "<|think", "<reasoning", "<|reasoning")
TopTokens = list[tuple[str, float]]


class MalformedAnswer(ValueError):
    """A completion whose numbers cannot be a next-token distribution."""

    def __init__(self, got: str, expected: str) -> None:
        super().__init__(f"got {got}, expected {expected}")
        self.got, self.expected = got, expected


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

    Raises
    ------
    MalformedAnswer
        When a log-probability is NaN, +inf or above 0, or the Yes and No tokens hold
        more than all the probability.
    """
    yes_word, no_word = normalise_token(yes), normalise_token(no)
    p_yes = p_no = 0.0
    for token, logprob in top:
        _check_logprob(token, logprob)
        word = normalise_token(token)
        if word == yes_word:
            p_yes += math.exp(min(logprob, 0.0))
        elif word == no_word:
            p_no += math.exp(min(logprob, 0.0))
    mass = p_yes + p_no
    if mass > 1.0 + ROUNDING:
        raise MalformedAnswer(
            f"an answer mass of {mass:.6g} on the {yes} and {no} tokens", "at most 1"
        )
    if mass <= 0.0:
        return None
    return QuestionScore(p_yes=p_yes / mass, answer_mass=min(mass, 1.0))


def _check_logprob(token: str, logprob: float) -> None:
    """MalformedAnswer unless ``logprob`` is -inf or a finite number <= 0 (up to rounding)."""
    if math.isnan(logprob) or logprob > ROUNDING:
        raise MalformedAnswer(
            f"logprob {logprob!r} for token {token!r}", "a finite log-probability <= 0"
        )


def answer_from_text(text: str, *, yes: str, no: str) -> QuestionScore | None:
    """P(Yes) = 1 or 0 from the first word of ``text``; None when it is neither answer.

    The answer is flagged ``from_text`` with ``answer_mass`` :data:`TEXT_ANSWER_MASS`
    (NaN): there was no distribution.
    """
    match = _FIRST_WORD.match(normalise_token(text))
    word = match.group(0) if match else ""
    if word == normalise_token(yes):
        return QuestionScore(p_yes=1.0, answer_mass=TEXT_ANSWER_MASS, from_text=True)
    if word == normalise_token(no):
        return QuestionScore(p_yes=0.0, answer_mass=TEXT_ANSWER_MASS, from_text=True)
    return None


def _as_top_tokens(entries: Any) -> TopTokens:
    """(token, logprob) pairs from ``[{"token", "logprob"}, ...]`` or ``{token: logprob}``.

    A null logprob counts as -inf (probability 0); any other value that is not a number
    is a malformed answer.
    """
    pairs: list[tuple[Any, Any]] = []
    if isinstance(entries, dict):
        pairs = list(entries.items())
    elif isinstance(entries, list):
        pairs = [(e.get("token"), e.get("logprob")) for e in entries if isinstance(e, dict)]
    top: TopTokens = []
    for token, logprob in pairs:
        if not isinstance(token, str):
            continue
        if logprob is None:
            logprob = -math.inf
        if isinstance(logprob, bool) or not isinstance(logprob, int | float):
            raise MalformedAnswer(
                f"logprob {logprob!r} for token {token!r}", "a finite log-probability <= 0"
            )
        top.append((token, float(logprob)))
    return top


def top_tokens(choice: dict[str, Any], *, chat: bool) -> TopTokens | None:
    """Top alternatives of the first generated token of a choice; None when the choice
    has no log-probabilities at all (the field is missing or null)."""
    logprobs = choice.get("logprobs")
    if not isinstance(logprobs, dict):
        return None
    if chat:
        content = logprobs.get("content")
        if not isinstance(content, list) or not content or not isinstance(content[0], dict):
            return None
        first = content[0]
        # Some servers leave top_logprobs empty and give only the sampled token.
        return _as_top_tokens(first.get("top_logprobs")) or _as_top_tokens([first])
    top = logprobs.get("top_logprobs")
    if not isinstance(top, list) or not top:
        return None
    return _as_top_tokens(top[0])


def choice_text(choice: dict[str, Any], *, chat: bool) -> str:
    """The generated text of a choice ('' when missing or null)."""
    if chat:
        message = choice.get("message")
        text = message.get("content") if isinstance(message, dict) else None
    else:
        text = choice.get("text")
    return text if isinstance(text, str) else ""


def thinking(choice: dict[str, Any], top: TopTokens | None, *, chat: bool) -> str | None:
    """How a choice shows a reasoning model thinking instead of answering, or None.

    Signs: the most likely first token, or the text, opens a thinking block such as
    ``<think>``; or the message has no content but a ``reasoning_content`` (or
    ``reasoning``) field. Yes and No among the alternatives of a thinking token carry no
    answer, so these are looked for before the answer is read.
    """
    signs: list[str] = []
    if top:
        first = max(top, key=lambda pair: pair[1])[0]
        if _opens_thinking(first):
            signs.append(f"first token {first!r}")
    text = choice_text(choice, chat=chat)
    if _opens_thinking(text):
        signs.append(f"text {text.strip()[:20]!r}")
    message = choice.get("message") if chat else None
    if isinstance(message, dict) and not text.strip():
        for field in ("reasoning_content", "reasoning"):
            if isinstance(message.get(field), str):
                content = "null" if message.get("content") is None else "empty"
                signs.append(f"content {content}, {field} set")
                break
    return ", ".join(signs) or None


def _opens_thinking(text: str) -> bool:
    return text.strip().lower().startswith(_THINKING_TAGS)
