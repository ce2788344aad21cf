"""Streaming HTTP downloads: retries on transient failures, length check, progress bar."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from tqdm import tqdm

from jobimpact import __version__
from jobimpact.errors import FetchError

RETRIES = 2
BACKOFF_S = 0.25
# bls.gov refuses clients that do not say who they are; a caller can pass its own client
# whose User-Agent names a contact address.
USER_AGENT = f"jobimpact/{__version__} (public labour-statistics download)"


class _Transient(Exception):
    """A failure worth another attempt: dropped connection, 5xx or 429, short body."""


def new_client() -> httpx.Client:
    """An httpx client with jobimpact's User-Agent, redirects followed and generous timeouts."""
    return httpx.Client(
        follow_redirects=True,
        timeout=httpx.Timeout(60.0, connect=15.0),
        headers={"User-Agent": USER_AGENT},
    )


def download(
    client: httpx.Client,
    url: str,
    target: Path,
    *,
    what: str,
    label: str,
    progress: bool,
    missing_ok: bool = False,
) -> bool:
    """Stream ``url`` into ``target``, retrying transient failures with a short backoff.

    ``what`` completes the messages ("expected <what>"), ``label`` names the progress bar.
    Returns False when the server answers 404 and ``missing_ok``; raises FetchError for
    any other failure.
    """
    for attempt in range(RETRIES + 1):
        try:
            found = _attempt(client, url, target, what=what, label=label, progress=progress)
        except _Transient as exc:
            target.unlink(missing_ok=True)
            if attempt == RETRIES:
                raise FetchError(
                    f"{exc}, expected {what} (gave up after {RETRIES + 1} attempts)"
                ) from None
            time.sleep(BACKOFF_S * 2**attempt)
            continue
        if not found and not missing_ok:
            raise FetchError(f"got HTTP 404 for {url}, expected {what}")
        return found
    raise AssertionError("unreachable")  # pragma: no cover


def _attempt(
    client: httpx.Client, url: str, target: Path, *, what: str, label: str, progress: bool
) -> bool:
    """One download attempt; False on 404."""
    try:
        with client.stream("GET", url) as response:
            status = response.status_code
            if status == 404:
                return False
            if status == 429 or status >= 500:
                raise _Transient(f"got HTTP {status} for {url}")
            if status != 200:
                raise FetchError(
                    f"got HTTP {status} for {url}, expected {what}{_hint(url, status)}"
                )
            _save(response, target, label=label, progress=progress)
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(f"got an unsupported URL {url} ({exc}), expected {what}") from None
    except httpx.TransportError as exc:
        # Includes a body cut short: h11 raises RemoteProtocolError before Content-Length is met.
        raise _Transient(f"got {type(exc).__name__} ({exc}) for {url}") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise FetchError(f"got {type(exc).__name__} ({exc}) for {url}, expected {what}") from None
    return True


def _save(response: httpx.Response, target: Path, *, label: str, progress: bool) -> None:
    """Write the body to ``target``; a body shorter than Content-Length is transient."""
    length = response.headers.get("Content-Length")
    expected = int(length) if length and length.isdigit() else None
    # disable=None lets tqdm switch itself off when stderr is not a terminal.
    with (
        target.open("wb") as out,
        tqdm(
            total=expected,
            unit="B",
            unit_scale=True,
            desc=label,
            disable=None if progress else True,
        ) as bar,
    ):
        seen = 0
        for chunk in response.iter_bytes():
            out.write(chunk)
            bar.update(response.num_bytes_downloaded - seen)
            seen = response.num_bytes_downloaded
    # Content-Length counts bytes on the wire, so compare it with the raw byte count.
    if expected is not None and response.num_bytes_downloaded != expected:
        raise _Transient(
            f"got {response.num_bytes_downloaded} of {expected} bytes from {response.url}"
        )


def _hint(url: str, status: int) -> str:
    """The known cause of a refusal, for the message."""
    if status == 403 and "bls.gov" in url:
        return "; bls.gov refuses downloads from programs that do not send a web browser's headers"
    return ""
