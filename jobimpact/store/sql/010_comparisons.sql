-- 010_comparisons: published occupation measures (and a user's own) beside ours
-- (jobimpact compare). Measures are stored as published, keyed by their own codes; the
-- views carry them to O*NET-SOC 2019 occupations through code_links and join them to our
-- roll-ups. The correlations and disagreements of each comparison are stored with it.

-- One row per code of an external measure, as read from its file. A measure is replaced
-- whole when it is ingested again, so each measure has one version at a time.
CREATE TABLE external_measures (
    measure     VARCHAR NOT NULL,  -- e.g. frey_osborne, or the name of a user's file
    version     VARCHAR NOT NULL,  -- source version (git ref) or the file's sha256 prefix
    code        VARCHAR NOT NULL,  -- the code as published (SOC 2010, SOC 2018 or O*NET-SOC 2019)
    code_system VARCHAR NOT NULL,  -- soc2010 | soc2018 | onet2019
    value       DOUBLE NOT NULL,
    source_row  INTEGER NOT NULL,  -- row of the file it came from (header = row 1)
    PRIMARY KEY (measure, code)
);

-- One row per external measure: what it is, where it came from, how its file read.
CREATE TABLE external_measure_info (
    measure       VARCHAR PRIMARY KEY,
    version       VARCHAR NOT NULL,
    label         VARCHAR NOT NULL,  -- short name for tables and figures
    title         VARCHAR NOT NULL,
    code_system   VARCHAR NOT NULL,
    counterpart   VARCHAR NOT NULL,  -- our measure it is set against for disagreements
    source        VARCHAR,           -- jobimpact fetch source, NULL for a user's file
    file          VARCHAR NOT NULL,
    origin        VARCHAR,           -- URL or path it was fetched from (the manifest), or the user's path
    sha256        VARCHAR NOT NULL,
    key_column    VARCHAR NOT NULL,
    value_column  VARCHAR NOT NULL,
    n_rows        INTEGER NOT NULL,  -- data rows in the file
    n_codes       INTEGER NOT NULL,  -- distinct codes kept
    n_unknown     INTEGER NOT NULL,  -- codes not in the code system, left out (published files only)
    unknown_codes VARCHAR[],
    citation      VARCHAR,
    licence       VARCHAR,
    note          VARCHAR,
    run_id        VARCHAR NOT NULL,
    ingested_at   TIMESTAMP NOT NULL
);

-- Every code of each code system and the O*NET-SOC 2019 occupations it reaches, rebuilt
-- from the crosswalks and the reference tables by each comparison. match_level says how:
-- detailed (the code itself), OEWS aggregate (an OEWS code standing for several SOC
-- codes, as the employment table matches them), or broad/minor/major group (a code
-- ending in zeros stands for the detailed codes that start with its other digits).
-- specificity orders them: an occupation takes a measure's value from its most specific
-- codes only.
CREATE TABLE code_links (
    code_system   VARCHAR NOT NULL,
    code          VARCHAR NOT NULL,
    onet_soc_code VARCHAR NOT NULL,
    match_level   VARCHAR NOT NULL,
    specificity   INTEGER NOT NULL,  -- 7 O*NET-SOC, 6 detailed, 5 aggregate or broad, ..., 2 major
    path          VARCHAR NOT NULL,  -- e.g. SOC 2010 → O*NET-SOC 2010 → O*NET-SOC 2019
    PRIMARY KEY (code_system, code, onet_soc_code)
);

CREATE TABLE comparisons (
    comparison_id VARCHAR PRIMARY KEY,
    run_id        VARCHAR NOT NULL,
    model_id      VARCHAR NOT NULL,
    rubric_hash   VARCHAR NOT NULL,
    head_id       VARCHAR NOT NULL,  -- '' for zero-shot scores
    weighting     VARCHAR NOT NULL,  -- the roll-up's task weighting
    measures      VARCHAR[] NOT NULL,
    versions      VARCHAR[] NOT NULL,
    n_boot        INTEGER NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

-- One row per pair, method and weighting. x is one of ours (beta, displacement, creation)
-- or an external measure, y an external measure; ours are compared over the occupations
-- of the roll-up, two external measures over every occupation with tasks that both reach.
CREATE TABLE comparison_correlations (
    comparison_id VARCHAR NOT NULL,
    x             VARCHAR NOT NULL,
    y             VARCHAR NOT NULL,
    method        VARCHAR NOT NULL,  -- pearson | spearman
    weights       VARCHAR NOT NULL,  -- none | employment
    value         DOUBLE,
    ci_low        DOUBLE,            -- 95% percentile bootstrap interval over occupations
    ci_high       DOUBLE,
    n             INTEGER NOT NULL,  -- occupations compared
    PRIMARY KEY (comparison_id, x, y, method, weights)
);

-- The occupations whose rank differs most between an external measure and its
-- counterpart among ours: percentile ranks (0-1) over the occupations compared.
CREATE TABLE comparison_disagreements (
    comparison_id VARCHAR NOT NULL,
    measure       VARCHAR NOT NULL,
    ours          VARCHAR NOT NULL,  -- beta | displacement | creation
    onet_soc_code VARCHAR NOT NULL,
    direction     VARCHAR NOT NULL,  -- ours higher | ours lower
    position      INTEGER NOT NULL,  -- 1 = largest difference in that direction
    ours_value    DOUBLE NOT NULL,
    their_value   DOUBLE NOT NULL,
    ours_rank     DOUBLE NOT NULL,
    their_rank    DOUBLE NOT NULL,
    rank_difference DOUBLE NOT NULL, -- ours_rank - their_rank
    PRIMARY KEY (comparison_id, measure, onet_soc_code)
);

-- view: external_measure_occupations
-- One row per external measure and O*NET-SOC 2019 occupation it reaches: the measure's
-- value carried to the occupation, and how (crosswalk_rule):
--   one to one                 one code reaches this occupation and no other
--   equal copy                 one code reaches this occupation and others; each gets its value
--   employment-weighted mean   several codes reach it (codes merged by a newer taxonomy);
--                              each code weighs the OEWS employment of the occupations it reaches
--   mean                       several codes, none of them reaching any employment
-- Only the most specific codes of the measure that reach an occupation count (match_level:
-- detailed before an OEWS aggregate or a broad group, before a minor or major group).
-- codes lists them; crosswalk_path is the chain of code systems followed (code_links).
CREATE VIEW external_measure_occupations AS
WITH linked AS (
    SELECT m.measure, m.version, m.code_system, m.code, m.value,
           l.onet_soc_code, l.match_level, l.specificity, l.path
    FROM external_measures AS m
    JOIN code_links AS l USING (code_system, code)
    QUALIFY l.specificity = max(l.specificity) OVER (PARTITION BY m.measure, l.onet_soc_code)
),
reach AS (
    SELECT k.measure, k.code, count(*) AS n_occupations, coalesce(sum(e.tot_emp), 0) AS employment
    FROM linked AS k LEFT JOIN employment AS e USING (onet_soc_code)
    GROUP BY k.measure, k.code
)
SELECT
    k.measure,
    any_value(k.version) AS version,
    k.onet_soc_code,
    CASE WHEN count(*) = 1 THEN any_value(k.value)
         WHEN sum(r.employment) > 0 THEN sum(k.value * r.employment) / sum(r.employment)
         ELSE avg(k.value) END AS value,
    CASE WHEN count(*) > 1 AND sum(r.employment) > 0 THEN 'employment-weighted mean'
         WHEN count(*) > 1 THEN 'mean'
         WHEN max(r.n_occupations) > 1 THEN 'equal copy'
         ELSE 'one to one' END AS crosswalk_rule,
    count(*) AS n_codes,
    list(k.code ORDER BY k.code) AS codes,
    max(r.n_occupations) AS n_sharing,
    any_value(k.match_level) AS match_level,
    any_value(k.code_system) AS code_system,
    any_value(k.path) AS crosswalk_path
FROM linked AS k JOIN reach AS r USING (measure, code)
GROUP BY k.measure, k.onet_soc_code;

-- view: external_measure_coverage
-- One row per external measure: its codes (kept, left out as unknown, and reaching an
-- occupation with tasks), the occupations with tasks it reaches and their share of all
-- occupations with tasks, the employment of those occupations and its share of the
-- employment matched to occupations with tasks, and how many occupations each crosswalk
-- rule gave a value.
CREATE VIEW external_measure_coverage AS
WITH with_tasks AS (
    SELECT onet_soc_code, employment FROM occupation_overview WHERE n_tasks > 0
),
totals AS (
    SELECT count(*) AS n_occupations, sum(employment) AS employment FROM with_tasks
),
matched AS (
    SELECT x.measure,
           count(*) AS n_occupations,
           sum(w.employment) AS employment,
           count(*) FILTER (WHERE x.crosswalk_rule = 'one to one') AS n_one_to_one,
           count(*) FILTER (WHERE x.crosswalk_rule = 'equal copy') AS n_equal_copy,
           count(*) FILTER (WHERE x.crosswalk_rule IN ('employment-weighted mean', 'mean'))
               AS n_merged
    FROM external_measure_occupations AS x JOIN with_tasks AS w USING (onet_soc_code)
    GROUP BY x.measure
),
used_codes AS (
    SELECT x.measure, count(DISTINCT c.code) AS n_codes_matched
    FROM external_measure_occupations AS x
    JOIN with_tasks AS w USING (onet_soc_code),
         unnest(x.codes) AS c(code)
    GROUP BY x.measure
)
SELECT
    i.measure, i.version, i.label, i.code_system, i.n_rows, i.n_codes, i.n_unknown,
    coalesce(u.n_codes_matched, 0) AS n_codes_matched,
    coalesce(m.n_occupations, 0) AS occupations_matched,
    t.n_occupations AS occupations_with_tasks,
    coalesce(m.n_occupations, 0) / t.n_occupations AS occupation_share,
    coalesce(m.employment, 0) AS employment_matched,
    coalesce(m.employment, 0) / t.employment AS employment_share,
    coalesce(m.n_one_to_one, 0) AS n_one_to_one,
    coalesce(m.n_equal_copy, 0) AS n_equal_copy,
    coalesce(m.n_merged, 0) AS n_merged
FROM external_measure_info AS i
CROSS JOIN totals AS t
LEFT JOIN matched AS m USING (measure)
LEFT JOIN used_codes AS u USING (measure)
ORDER BY i.measure;

-- view: measure_comparison
-- One row per occupation, roll-up (model, rubric, head, weighting) and external measure:
-- our occupation measures (beta = exposure, displacement, creation) beside
-- the external measure's value carried to the occupation, with the crosswalk rule that
-- carried it, and the occupation's employment.
CREATE VIEW measure_comparison AS
SELECT
    i.model_id, i.rubric_hash, i.head_id, i.weighting,
    i.onet_soc_code, i.title, i.soc_major, i.major_group, i.employment,
    i.beta, i.displacement, i.creation,
    x.measure, x.version, x.value, x.crosswalk_rule, x.match_level, x.n_codes, x.codes,
    x.code_system, x.crosswalk_path
FROM occupation_impact AS i
JOIN external_measure_occupations AS x USING (onet_soc_code);
