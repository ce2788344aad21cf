"""How the HTTP backend paces itself: an adaptive limit on the requests in flight, and
retry budgets with jittered waits.

:class:`AdaptiveLimit` is additive-increase / multiplicative-decrease (AIMD), as TCP
congestion control: a rate limit (HTTP 429) halves the number of requests allowed in
flight, each answered request adds 1/limit to it, so it grows by about one per round of
answers, never above the configured concurrency nor below one. A ``Retry-After`` from the
server holds every new request of the scorer until it has passed, not only the request
that got it, so the requests waiting their turn do not run into the same limit. No
library on PyPI keeps such a limit for asyncio (aiolimiter keeps a fixed rate, which a
user would have to know in advance), so it is here.

:class:`RetryBudget` drives tenacity: transient failures (5xx, timeouts, dropped
connections, malformed answers) and rate limits each have their own budget of retries,
the second larger; waits are the server's ``Retry-After`` plus up to a quarter more, or
exponential backoff with full jitter, so that retries do not arrive together.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import tenacity

__all__ = [
    "MAX_RETRY_AFTER_S",
    "AdaptiveLimit",
    "RetryBudget",
    "Transient",
    "retry_after",
]

#: Longest wait a ``Retry-After`` header can impose, so that a server cannot stall a run.
MAX_RETRY_AFTER_S = 300.0
#: A retry after ``Retry-After`` s waits up to this fraction of it longer, at random.
RETRY_AFTER_JITTER = 0.25
#: Longest backoff between two transient failures, before jitter.
MAX_BACKOFF_S = 60.0


class Transient(Exception):
    """A failed attempt worth repeating: what came back, what was expected, when to retry."""

    def __init__(
        self,
        got: str,
        expected: str,
        *,
        retry_after: float | None = None,
        rate_limited: bool = False,
    ) -> None:
        super().__init__(got)
        self.got, self.expected = got, expected
        self.retry_after, self.rate_limited = retry_after, rate_limited


def retry_after(response: httpx.Response) -> float | None:
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
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


class AdaptiveLimit:
    """At most ``limit`` requests in flight, adapted AIMD-wise to the server's rate limits.

    Parameters
    ----------
    maximum : int
        The most requests in flight at once (the configured concurrency).

    The limit and the pause outlive a batch (each batch runs its own event loop), so that
    what one batch learnt about the server holds for the next. Times are
    :func:`time.monotonic`, which every event loop shares.
    """

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = float(maximum)
        self.in_flight = 0
        self.cuts = 0
        self._resume_at = 0.0
        # A cut is made once per round: by a rate limit of a request sent after the last cut.
        self._round = 0
        self._waiters: list[asyncio.Future[None]] = []

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        """Hold one of the ``limit`` places while a request is in flight; yields the round
        it was sent in, for :meth:`rate_limited`."""
        await self._acquire()
        try:
            yield self._round
        finally:
            self.in_flight -= 1
            self._wake()

    def answered(self) -> None:
        """An answer came back: allow about one more request in flight per round."""
        self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)
        self._wake()

    def rate_limited(self, sent_in: int, retry_after: float | None) -> None:
        """The server refused a request sent in round ``sent_in`` as over its rate limit:
        halve the limit (once per round) and hold new requests for ``retry_after`` s."""
        if retry_after:
            self.hold(retry_after)
        if sent_in == self._round:
            self.limit = max(1.0, self.limit / 2.0)
            self._round += 1
            self.cuts += 1

    def hold(self, seconds: float) -> None:
        """Send no new request for ``seconds`` (the server's ``Retry-After``)."""
        self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    async def _acquire(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            pause = self._resume_at - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
                continue
            if self.in_flight < int(self.limit):
                self.in_flight += 1
                return
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                self._waiters.remove(waiter)

    def _wake(self) -> None:
        """Let every waiting request look again (there are at most a batch of them)."""
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)


@dataclass
class RetryBudget:
    """Retries left for one request, counted apart for transient failures and rate limits.

    Parameters
    ----------
    transient : int
        Further attempts after 5xx answers, timeouts, dropped connections and malformed
        answers.
    rate_limited : int
        Further attempts after rate limits (HTTP 429); larger, since a rate limit says
        "later", not "broken".
    backoff : float
        First wait after a transient failure without ``Retry-After``; doubles each time
        (full jitter: a wait is drawn uniformly below it).
    """

    transient: int
    rate_limited: int
    backoff: float
    failures: int = 0
    limits: int = 0
    last: Transient | None = None

    @property
    def attempts(self) -> int:
        """Attempts made so far that failed."""
        return self.failures + self.limits

    def count(self, failure: Transient) -> None:
        """Book a failed attempt against its budget."""
        self.last = failure
        if failure.rate_limited:
            self.limits += 1
        else:
            self.failures += 1

    def exhausted(self, state: tenacity.RetryCallState) -> bool:
        """tenacity ``stop``: the budget of the last failure's kind is spent."""
        return self.limits > self.rate_limited or self.failures > self.transient

    def wait(self, state: tenacity.RetryCallState) -> float:
        """tenacity ``wait``: Retry-After plus jitter, else jittered exponential backoff."""
        failure = self.last
        if failure is not None and failure.retry_after is not None:
            return failure.retry_after * (1.0 + RETRY_AFTER_JITTER * random.random())
        tries = self.limits if failure is not None and failure.rate_limited else self.failures
        ceiling = min(self.backoff * 2.0 ** max(tries - 1, 0), MAX_BACKOFF_S)
        return random.uniform(0.0, ceiling)

    def retrying(self) -> tenacity.AsyncRetrying:
        """The tenacity loop for one request: retries Transient failures only, and re-raises
        the last one when its budget is spent."""
        return tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(Transient),
            stop=self.exhausted,
            wait=self.wait,
            reraise=True,
        )
