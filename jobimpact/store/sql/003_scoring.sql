-- 003_scoring: LLM task scores with provenance, per-task feature vectors, failures,
-- the rubrics used, and the per-task measures view.

CREATE TABLE rubrics (
    rubric_hash VARCHAR PRIMARY KEY, -- sha256 of the rubric's canonical form
    name        VARCHAR NOT NULL,
    version     VARCHAR NOT NULL,
    definition  JSON NOT NULL,       -- the whole rubric: system text, templates, questions
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE task_scores (
    task_id       INTEGER NOT NULL,
    prompt_sha256 VARCHAR NOT NULL,  -- content address: occupation + task text + model + rubric
    model_id      VARCHAR NOT NULL,
    rubric_hash   VARCHAR NOT NULL,
    question      VARCHAR NOT NULL,  -- direct | software | automation | creation (rubric keys)
    method        VARCHAR NOT NULL,  -- zero-shot | calibrated
    head_id       VARCHAR NOT NULL,  -- '' for zero-shot; the calibration head otherwise
    p_yes         DOUBLE NOT NULL,   -- P(Yes) renormalised over the Yes/No answer tokens
    answer_mass   DOUBLE,            -- probability that fell on the answer tokens at all
    run_id        VARCHAR NOT NULL,
    scored_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (task_id, prompt_sha256, model_id, rubric_hash, question, head_id)
);

CREATE TABLE task_features (
    prompt_sha256 VARCHAR NOT NULL,
    model_id      VARCHAR NOT NULL,
    feature_spec  VARCHAR NOT NULL,  -- e.g. mean of hidden layer 12 over the task tokens
    vector        FLOAT[] NOT NULL,
    PRIMARY KEY (prompt_sha256, model_id, feature_spec)
);

CREATE TABLE scoring_failures (
    run_id      VARCHAR NOT NULL,
    task_id     INTEGER NOT NULL,
    model_id    VARCHAR NOT NULL,
    rubric_hash VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,
    failed_at   TIMESTAMP NOT NULL
);

-- view: task_measures
-- One row per scored prompt (task text with its occupation), model, rubric and method
-- (zero-shot, or calibrated by a head): the
-- probabilities of the four rubric questions and the measures derived from them:
--   alpha        = P(direct)                           exposed to a chat assistant alone
--   beta         = P(direct) + 0.5 * max(0, P(software) - P(direct))
--   zeta         = max(P(direct), P(software))         exposed with LLM-powered software
--   displacement = P(automation)                       an LLM system could do it end to end
--   creation     = P(creation)                         LLM use creates new work around it
--   augmentation = zeta * (1 - displacement)           exposed but not automated
-- min_answer_mass is the smallest probability the model put on Yes/No over the questions:
-- a low value means the model wanted to answer something else.
CREATE VIEW task_measures AS
WITH p AS (
    SELECT task_id, prompt_sha256, model_id, rubric_hash, method, head_id,
           max(p_yes) FILTER (WHERE question = 'direct') AS p_direct,
           max(p_yes) FILTER (WHERE question = 'software') AS p_software,
           max(p_yes) FILTER (WHERE question = 'automation') AS p_automation,
           max(p_yes) FILTER (WHERE question = 'creation') AS p_creation,
           min(answer_mass) AS min_answer_mass,
           max(scored_at) AS scored_at
    FROM task_scores
    GROUP BY task_id, prompt_sha256, model_id, rubric_hash, method, head_id
)
SELECT
    p.*,
    p_direct AS alpha,
    p_direct + 0.5 * greatest(0, p_software - p_direct) AS beta,
    greatest(p_direct, p_software) AS zeta,
    p_automation AS displacement,
    p_creation AS creation,
    greatest(p_direct, p_software) * (1 - p_automation) AS augmentation
FROM p;
