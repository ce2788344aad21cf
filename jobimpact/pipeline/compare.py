"""Compare: read published occupation measures (and a user's own) into the store, carry
them to our occupations, and correlate them with our roll-up and with each other.

The scoring compared is the roll-up :func:`~jobimpact.store.scorings.resolve_scoring`
picks (the one the report shows) unless named. Every file is read and checked before the
store is touched; the measures, the code links and the comparison are then written in
one transaction, so a failure leaves the store as it was.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from jobimpact.errors import ConfigError, DataError, NotReadyError

if TYPE_CHECKING:
    from jobimpact.comparison.catalog import MeasureSpec
    from jobimpact.comparison.codes import CodeLinks
    from jobimpact.comparison.files import MeasureValues
    from jobimpact.store.scorings import ScoringKey

__all__ = ["CompareResult", "run_compare"]

log = logging.getLogger(__name__)

CROSSWALK_SOURCE = "onet_soc_2010_crosswalk"
# Occupations listed per measure and direction (ours ranks higher / lower).
N_DISAGREEMENTS = 5


@dataclass(frozen=True)
class CompareResult:
    """One comparison, as stored.

    Attributes
    ----------
    scoring : ScoringKey
        The roll-up compared (model, rubric, head, weighting).
    measures : list of str
        The external measures compared, in order.
    coverage : DataFrame
        Per measure: codes (kept, unknown, matched), occupations with tasks reached and
        their share, employment reached and its share, occupations per crosswalk rule,
        with the measure's provenance (rows of the ``external_measure_coverage`` view).
    correlations : DataFrame
        ``x, y, method, weights, value, ci_low, ci_high, n``.
    disagreements : DataFrame
        ``measure, ours, onet_soc_code, title, employment, direction, position,
        ours_value, their_value, ours_rank, their_rank, rank_difference``.
    drivers : dict
        Measure → occupation → the tasks driving our counterpart measure there.
    skipped : list of str
        Published measures left out because their source is not fetched.
    """

    comparison_id: str
    run_id: str
    scoring: ScoringKey
    measures: list[str]
    coverage: pd.DataFrame
    correlations: pd.DataFrame
    disagreements: pd.DataFrame
    drivers: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _fetched_path(data_dir: Path, source: str) -> tuple[Path, str, str]:
    """(file folder, version, origin) of a fetched source; DataError naming the fetch."""
    from jobimpact.sources import get_source, read_manifest
    from jobimpact.sources.base import raw_dir

    version = get_source(source).default_version
    folder = raw_dir(data_dir, source, version)
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        raise DataError(
            str(folder),
            f"got no fetched {source} {version}, expected it to compare with; run "
            f"`jobimpact fetch --source {source}` first",
        )
    return folder, version, read_manifest(manifest).origin


def _choose_published(
    data_dir: Path, measures: Sequence[str] | None, has_user: bool
) -> tuple[list[MeasureSpec], list[str]]:
    """The published measures to compare, and those left out because they are not fetched
    (only when none were named)."""
    from jobimpact.comparison.catalog import PUBLISHED_MEASURES, published_measure
    from jobimpact.sources.base import raw_dir
    from jobimpact.sources.registry import get_source

    if measures is not None:
        return [published_measure(name) for name in dict.fromkeys(measures)], []
    chosen, skipped = [], []
    for spec in PUBLISHED_MEASURES.values():
        assert spec.source is not None
        version = get_source(spec.source).default_version
        if (raw_dir(data_dir, spec.source, version) / "manifest.json").is_file():
            chosen.append(spec)
        else:
            skipped.append(spec.name)
    if not chosen and not has_user:
        raise NotReadyError(
            "compare: got no published measure fetched and no --measure file, expected "
            "some; run `jobimpact fetch` (or name a file with --measure)"
        )
    return chosen, skipped


def _specs(
    data_dir: Path, measures: Sequence[str] | None, user_measures: Sequence[MeasureSpec]
) -> tuple[list[MeasureSpec], list[str]]:
    """The measures to compare (published, then the user's), and the published ones left
    out because they are not fetched."""
    published, skipped = _choose_published(data_dir, measures, bool(user_measures))
    specs = [*published, *user_measures]
    names = [spec.name for spec in specs]
    if not specs:
        raise NotReadyError("compare: got no measure to compare, expected --measures or --measure")
    if len(set(names)) < len(names):
        raise ConfigError(f"measures: got the names {names}, expected each name once")
    return specs, skipped


def _links(data_dir: Path, db: Path, specs: Sequence[MeasureSpec]) -> CodeLinks:
    """The code links of the store, with SOC 2010 when its crosswalk is fetched (needed
    when a measure is keyed to SOC 2010)."""
    from jobimpact.comparison.codes import build_links
    from jobimpact.history import read_taxonomy_crosswalk
    from jobimpact.store import open_store
    from jobimpact.store.comparisons import link_inputs

    needs_2010 = any(spec.code_system == "soc2010" for spec in specs)
    crosswalk = None
    try:
        folder, _, _ = _fetched_path(data_dir, CROSSWALK_SOURCE)
    except DataError:
        if needs_2010:
            raise
    else:
        crosswalk = read_taxonomy_crosswalk(folder / "onet_soc_2010_to_2019.csv")
    with open_store(db, read_only=True) as con:
        occupations, soc_codes = link_inputs(con)
    return build_links(occupations, soc_codes, crosswalk)


def _read_all(
    data_dir: Path, specs: Sequence[MeasureSpec], links: CodeLinks
) -> list[tuple[MeasureValues, str, str]]:
    """Every measure's values, version and origin; the first bad file stops everything."""
    from jobimpact.comparison.files import read_measure

    read = []
    for spec in specs:
        if spec.source is None:
            path = Path(spec.file)
            values = read_measure(spec, path, known=links.known[spec.code_system])
            version, origin = values.sha256[:12], str(path.resolve())
        else:
            folder, version, origin = _fetched_path(data_dir, spec.source)
            values = read_measure(spec, folder / spec.file, known=links.known[spec.code_system])
        read.append((values, version, origin))
    return read


def _tables(
    read: Sequence[tuple[MeasureValues, str, str]], run_id: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of ``external_measures`` and ``external_measure_info``."""
    from jobimpact.store.runs import now

    values, info = [], []
    for measure, version, origin in read:
        spec = measure.spec
        values.append(
            measure.values.assign(measure=spec.name, version=version, code_system=spec.code_system)
        )
        info.append(
            {
                "measure": spec.name,
                "version": version,
                "label": spec.label,
                "title": spec.title,
                "code_system": spec.code_system,
                "counterpart": spec.counterpart,
                "source": spec.source,
                "file": measure.path.name,
                "origin": origin,
                "sha256": measure.sha256,
                "key_column": spec.key_column,
                "value_column": spec.value_column,
                "n_rows": measure.n_rows,
                "n_codes": len(measure.values),
                "n_unknown": len(measure.unknown),
                "unknown_codes": list(measure.unknown),
                "citation": spec.citation,
                "licence": spec.licence,
                "note": spec.note,
                "run_id": run_id,
                "ingested_at": now(),
            }
        )
    return pd.concat(values, ignore_index=True), pd.DataFrame(info)


def _correlations(
    ours: pd.DataFrame, external: pd.DataFrame, measures: Sequence[str], n_boot: int, seed: int
) -> pd.DataFrame:
    """Ours against every measure, then every pair of measures."""
    from jobimpact.comparison.catalog import OURS
    from jobimpact.comparison.correlation import correlation_rows

    wide = external.pivot(index="onet_soc_code", columns="measure", values="value")
    employment = external.drop_duplicates("onet_soc_code").set_index("onet_soc_code")["employment"]
    ours_indexed = ours.set_index("onet_soc_code")
    rows: list[dict[str, Any]] = []
    for y in measures:
        theirs = wide[y] if y in wide else pd.Series(dtype=float)
        for x in OURS:
            stats = correlation_rows(
                ours_indexed[x],
                theirs,
                ours_indexed["employment"],
                n_boot=n_boot,
                random_state=seed,
            )
            rows += [{"x": x, "y": y, **row} for row in stats]
    for i, x in enumerate(measures):
        for y in measures[i + 1 :]:
            if x not in wide or y not in wide:
                continue
            stats = correlation_rows(wide[x], wide[y], employment, n_boot=n_boot, random_state=seed)
            rows += [{"x": x, "y": y, **row} for row in stats]
    return pd.DataFrame(rows)


def _disagreements(
    ours: pd.DataFrame, external: pd.DataFrame, specs: Sequence[MeasureSpec]
) -> pd.DataFrame:
    """Per measure, the occupations ranked most differently by it and by its counterpart."""
    from jobimpact.comparison.correlation import disagreements

    indexed = ours.set_index("onet_soc_code")
    parts = []
    for spec in specs:
        theirs = external[external["measure"] == spec.name].set_index("onet_soc_code")["value"]
        found = disagreements(indexed[spec.counterpart], theirs, n=N_DISAGREEMENTS)
        if found.empty:
            continue
        found = found.rename_axis("onet_soc_code").reset_index()
        parts.append(found.assign(measure=spec.name, ours=spec.counterpart))
    columns = ["measure", "ours", "onet_soc_code", "direction", "position", "ours_value",
               "their_value", "ours_rank", "their_rank", "rank_difference"]  # fmt: skip
    if not parts:
        return pd.DataFrame(columns=columns)
    table = pd.concat(parts, ignore_index=True)[columns]
    details = indexed[["title", "employment"]]
    return table.join(details, on="onet_soc_code")


def run_compare(
    *,
    db: str | Path,
    data_dir: str | Path,
    measures: Sequence[str] | None = None,
    user_measures: Sequence[MeasureSpec] = (),
    model_id: str | None = None,
    rubric_hash: str | None = None,
    head_id: str | None = None,
    weighting: str | None = None,
    n_boot: int = 1000,
    random_state: int = 0,
) -> CompareResult:
    """Ingest external occupation measures and compare them with a roll-up of ours.

    Parameters
    ----------
    db : the store; it must hold an occupation roll-up (``jobimpact aggregate``)
    data_dir : where ``jobimpact fetch`` put the published measures and crosswalks
    measures : published measures to compare (names of
        :data:`~jobimpact.comparison.catalog.PUBLISHED_MEASURES`); by default every one whose source
        is fetched, and none with ``[]``
    user_measures : measures from a user's files
        (:func:`~jobimpact.comparison.catalog.user_measure`)
    model_id, rubric_hash, head_id, weighting : the roll-up to compare; see
        :func:`~jobimpact.store.scorings.resolve_scoring` (``head_id=""``: zero-shot)
    n_boot : bootstrap resamples of occupations for the intervals
    random_state : seed of the resamples

    Raises
    ------
    NotReadyError
        When the store has no roll-up, or there is nothing to compare.
    DataError
        For a missing source or a bad file (one line naming the file, row and field);
        the store is left as it was.
    ConfigError
        For an unknown measure name or a scoring that is not in the store.
    """
    from jobimpact.store import open_store
    from jobimpact.store.runs import stage_run
    from jobimpact.store.scorings import resolve_scoring

    started = time.perf_counter()
    db, data_dir = Path(db), Path(data_dir)
    named = {"model_id": model_id, "rubric_hash": rubric_hash, "head_id": head_id}
    with open_store(db, read_only=True) as con:
        scoring = resolve_scoring(con, **named, weighting=weighting, aggregated=True, where=str(db))
    specs, skipped = _specs(data_dir, measures, user_measures)
    # Everything is read and checked before the store is written.
    links = _links(data_dir, db, specs)
    read = _read_all(data_dir, specs, links)
    names = [spec.name for spec in specs]
    parameters = {**_describe(scoring), "measures": names, "n_boot": n_boot}
    with stage_run(db, stage="compare", parameters=parameters) as run:
        result = _write_and_compare(db, scoring, links, read, run.run_id, n_boot, random_state)
        run.counts = {"measures": len(names), "occupations": result.pop("n_occupations")}
    return CompareResult(
        run_id=run.run_id,
        scoring=scoring,
        measures=names,
        skipped=skipped,
        seconds=time.perf_counter() - started,
        **result,
    )


def _write_and_compare(
    db: Path,
    scoring: ScoringKey,
    links: CodeLinks,
    read: Sequence[tuple[MeasureValues, str, str]],
    run_id: str,
    n_boot: int,
    random_state: int,
) -> dict[str, Any]:
    """In one transaction: store the measures and links, correlate, store the comparison;
    return the fields of :class:`CompareResult` it made (and the occupations compared)."""
    from jobimpact.store import comparisons as stored
    from jobimpact.store import open_store, transaction
    from jobimpact.store.runs import now

    specs = [measure.spec for measure, _, _ in read]
    names = [spec.name for spec in specs]
    values, info = _tables(read, run_id)
    with open_store(db) as con, transaction(con):
        stored.write_external_measures(con, info, values, links.links)
        ours, external = stored.comparison_frames(con, scoring.params, names)
        correlations = _correlations(ours, external, names, n_boot, random_state)
        disagreements = _disagreements(ours, external, specs)
        record = {
            "comparison_id": uuid.uuid4().hex,
            "run_id": run_id,
            **_describe(scoring),
            "measures": names,
            "versions": list(info["version"]),
            "n_boot": n_boot,
            "created_at": now(),
        }
        stored.write_comparison(con, record, correlations, disagreements)
        return {
            "comparison_id": str(record["comparison_id"]),
            "coverage": stored.external_coverage(con, names),
            "correlations": correlations,
            "disagreements": disagreements,
            "drivers": _drivers(con, scoring, disagreements),
            "n_occupations": len(ours),
        }


def _describe(scoring: ScoringKey) -> dict[str, str]:
    return {
        "model_id": scoring.model_id,
        "rubric_hash": scoring.rubric_hash,
        "head_id": scoring.head_id,
        "weighting": scoring.weighting or "rating",
    }


def _drivers(
    con: Any, scoring: ScoringKey, disagreements: pd.DataFrame
) -> dict[str, dict[str, pd.DataFrame]]:
    """Per measure, the tasks driving our counterpart measure at each listed occupation."""
    from jobimpact.drivers import driving_tasks

    found: dict[str, dict[str, pd.DataFrame]] = {}
    for (measure, ours), group in disagreements.groupby(["measure", "ours"], sort=False):
        found[str(measure)] = driving_tasks(
            con,
            scoring.params,
            list(group["onet_soc_code"]),
            str(ours),
            weighting=scoring.weighting or "rating",
        )
    return found
