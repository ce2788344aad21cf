-- 007_validation: agreement of scores with reference labels (jobimpact validate).

CREATE TABLE validations (
    validation_id  VARCHAR PRIMARY KEY,
    run_id         VARCHAR NOT NULL,
    model_id       VARCHAR NOT NULL,
    rubric_hash    VARCHAR NOT NULL,
    head_id        VARCHAR NOT NULL,  -- '' for zero-shot scores
    mode           VARCHAR NOT NULL,  -- zero-shot | out-of-fold | held-out (see metric rows)
    labels_name    VARCHAR NOT NULL,
    labels_sha256  VARCHAR NOT NULL,
    n_labelled     INTEGER NOT NULL,  -- rows in the labels file
    n_matched_id   INTEGER NOT NULL,  -- matched by (O*NET-SOC code, task id)
    n_matched_text INTEGER NOT NULL,  -- matched by occupation and task text only
    n_scored       INTEGER NOT NULL,  -- matched tasks that have scores
    created_at     TIMESTAMP NOT NULL
);

-- One row per (scores compared, reference, level, metric). `source` is ours (the scores)
-- or gpt4 (the GPT-4 labels of the same tasks, the paper's reference row).
CREATE TABLE validation_metrics (
    validation_id VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,  -- ours | gpt4
    reference     VARCHAR NOT NULL,  -- human | gpt4
    level         VARCHAR NOT NULL,  -- task | occupation
    metric        VARCHAR NOT NULL,  -- auc_exposed | auc_e1 | kappa | brier_exposed | pearson_beta | spearman_beta
    value         DOUBLE,
    ci_low        DOUBLE,            -- 95% bootstrap interval over occupations, when computed
    ci_high       DOUBLE,
    n             INTEGER NOT NULL,  -- tasks or occupations compared
    PRIMARY KEY (validation_id, source, reference, level, metric)
);

-- Reliability curve: tasks binned by predicted P(exposed), against the share labelled exposed.
CREATE TABLE validation_reliability (
    validation_id  VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,
    bin            INTEGER NOT NULL,
    mean_predicted DOUBLE NOT NULL,
    observed_rate  DOUBLE NOT NULL,
    n              INTEGER NOT NULL,
    PRIMARY KEY (validation_id, source, bin)
);

-- view: validation_summary
-- The metrics of the latest validation of each scoring (model, rubric, head) in one table:
-- task-level AUC, kappa and Brier score against the human labels and occupation-level
-- correlations of beta, for our scores and, as reference, for GPT-4's labels.
CREATE VIEW validation_summary AS
WITH latest AS (
    SELECT * FROM validations
    QUALIFY row_number() OVER (
        PARTITION BY model_id, rubric_hash, head_id ORDER BY created_at DESC
    ) = 1
)
SELECT l.model_id, l.rubric_hash, l.head_id, l.mode, l.labels_name, l.created_at,
       m.source, m.reference, m.level, m.metric, m.value, m.ci_low, m.ci_high, m.n,
       l.validation_id, l.run_id
FROM latest AS l JOIN validation_metrics AS m USING (validation_id);
