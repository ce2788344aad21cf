-- 001_foundation: reference data from O*NET, BLS OEWS and the SOC crosswalks,
-- the provenance of every file ingested, and the runs of every stage.
-- Later stages add their own migrations.
-- No FOREIGN KEY clauses: reference tables are replaced whole on re-ingest, and the
-- ingest code checks that every code it links exists before it writes.

CREATE TABLE source_files (
    source      VARCHAR NOT NULL,   -- onet | oews | onet_soc_crosswalk | soc_structure | gpts_labels
    version     VARCHAR NOT NULL,   -- release, e.g. 29.3, M2024, 2019, 2018, dev-half
    file        VARCHAR NOT NULL,   -- file name inside data/raw/<source>/<version>/
    origin      VARCHAR,            -- URL or mirror path it was fetched from (from the manifest)
    sha256      VARCHAR NOT NULL,   -- of the file as ingested
    n_rows      BIGINT,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source, file)
);

CREATE TABLE soc_groups (
    soc_code    VARCHAR PRIMARY KEY, -- SOC 2018 code, e.g. 11-0000, 11-1000, 11-1010, 11-1011
    level       VARCHAR NOT NULL,    -- major | minor | broad | detailed
    title       VARCHAR NOT NULL,
    soc_major   VARCHAR NOT NULL     -- its major group, e.g. 11-0000
);

CREATE TABLE occupations (
    onet_soc_code VARCHAR PRIMARY KEY, -- O*NET-SOC 2019 code, e.g. 11-1011.03
    title         VARCHAR NOT NULL,
    description   VARCHAR NOT NULL,
    soc_code      VARCHAR,             -- SOC 2018 detailed code through the O*NET crosswalk
    soc_major     VARCHAR NOT NULL,    -- SOC major group, e.g. 11-0000
    job_zone      INTEGER              -- 1..5, NULL where O*NET has none
);

CREATE TABLE tasks (
    task_id        INTEGER PRIMARY KEY,  -- O*NET Task ID (unique across occupations)
    onet_soc_code  VARCHAR NOT NULL,
    task           VARCHAR NOT NULL,
    task_type      VARCHAR,              -- Core | Supplemental | NULL (new tasks, not yet rated)
    incumbents_responding DOUBLE,
    importance     DOUBLE,               -- Task Ratings IM, mean on 1..5
    importance_lower DOUBLE,
    importance_upper DOUBLE,
    relevance      DOUBLE,               -- Task Ratings RT, percent of incumbents, 0..100
    relevance_lower DOUBLE,
    relevance_upper DOUBLE,
    date           VARCHAR,              -- MM/YYYY as in the release
    domain_source  VARCHAR,
    text_sha256    VARCHAR NOT NULL      -- sha256 of the task text (UTF-8): the content address later stages key on
);

CREATE TABLE iwas (
    iwa_id       VARCHAR PRIMARY KEY,
    iwa_title    VARCHAR NOT NULL,
    gwa_id       VARCHAR NOT NULL,   -- O*NET Element ID of the generalized work activity
    gwa_title    VARCHAR NOT NULL
);

CREATE TABLE dwas (
    dwa_id     VARCHAR PRIMARY KEY,
    dwa_title  VARCHAR NOT NULL,
    iwa_id     VARCHAR NOT NULL,
    text_sha256 VARCHAR NOT NULL
);

CREATE TABLE task_dwas (
    task_id       INTEGER NOT NULL,
    dwa_id        VARCHAR NOT NULL,
    date          VARCHAR,
    domain_source VARCHAR,
    PRIMARY KEY (task_id, dwa_id)
);

CREATE TABLE emerging_tasks (
    emerging_id      INTEGER PRIMARY KEY, -- row order in Emerging Tasks.txt, 1-based
    onet_soc_code    VARCHAR NOT NULL,
    task             VARCHAR NOT NULL,
    category         VARCHAR NOT NULL,    -- New | Revision
    original_task_id INTEGER,             -- for revisions: the task it rewrites
    original_task    VARCHAR,
    date             VARCHAR,
    domain_source    VARCHAR,
    text_sha256      VARCHAR NOT NULL
);

CREATE TABLE oews (
    occ_code    VARCHAR PRIMARY KEY, -- SOC 2018 code as OEWS publishes it (some are OEWS-only aggregates)
    occ_title   VARCHAR NOT NULL,
    o_group     VARCHAR NOT NULL,    -- total | major | minor | broad | detailed
    tot_emp     BIGINT,              -- NULL where BLS suppressed it (see tot_emp_mark)
    tot_emp_mark VARCHAR,            -- the BLS mark when suppressed: ** (no estimate) or # (top-coded)
    emp_prse    DOUBLE,
    h_mean      DOUBLE,
    a_mean      DOUBLE,
    h_median    DOUBLE,
    a_median    DOUBLE,
    a_mean_mark VARCHAR,             -- * (no hourly/annual figure) or # (at or above the top code)
    a_median_mark VARCHAR
);

CREATE TABLE employment (
    onet_soc_code VARCHAR PRIMARY KEY,
    soc_code      VARCHAR,           -- SOC 2018 detailed code (crosswalk)
    oews_code     VARCHAR,           -- the OEWS row that counts these workers; NULL when OEWS has none
    oews_match    VARCHAR NOT NULL,  -- detailed | oews_aggregate | none
    oews_tot_emp  BIGINT,            -- employment of oews_code as published
    n_sharing     INTEGER,           -- O*NET-SOC occupations with tasks that share oews_code
    emp_share     DOUBLE,            -- fraction of oews_tot_emp given to this occupation
    split_method  VARCHAR,           -- how oews_tot_emp is split among the sharing occupations
    tot_emp       DOUBLE,            -- oews_tot_emp * emp_share
    a_mean        DOUBLE,            -- annual mean wage of oews_code (not split)
    a_median      DOUBLE,
    wage_bill     DOUBLE             -- tot_emp * a_mean
);

CREATE TABLE runs (
    run_id      VARCHAR PRIMARY KEY, -- uuid4 hex
    stage       VARCHAR NOT NULL,    -- ingest | score | embed | cluster | aggregate | report | ...
    status      VARCHAR NOT NULL,    -- running | done | failed | interrupted
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    parameters  JSON,                -- what the stage was asked to do (model, rubric, versions...)
    counts      JSON,                -- what it did (rows written, skipped, failed)
    host        VARCHAR,
    jobimpact_version VARCHAR,
    error       VARCHAR
);
