-- 006_calibration: calibration heads (logistic regressions from a model's task features to
-- labelled probabilities), their weights and occupation folds; task_measures takes the
-- creation question, which has no labels, from the zero-shot scores of the same prompt.

CREATE TABLE calibration_heads (
    head_id        VARCHAR PRIMARY KEY, -- sha256 of the head's content (first 16 hex digits)
    model_id       VARCHAR NOT NULL,    -- the scorer whose features the head reads
    rubric_hash    VARCHAR NOT NULL,    -- features depend on the rubric prefix they follow
    feature_spec   VARCHAR NOT NULL,
    feature_dim    INTEGER NOT NULL,
    labels_name    VARCHAR NOT NULL,    -- file the targets came from
    labels_sha256  VARCHAR NOT NULL,
    n_tasks        INTEGER NOT NULL,    -- labelled tasks the head was fitted on
    n_occupations  INTEGER NOT NULL,
    n_folds        INTEGER NOT NULL,    -- occupation-grouped cross-validation folds
    targets        JSON NOT NULL,       -- question -> how its target was built from the labels
    cv_metrics     JSON NOT NULL,       -- out-of-fold metrics per question
    params         JSON NOT NULL,       -- regularisation chosen per question, library versions
    created_at     TIMESTAMP NOT NULL,
    run_id         VARCHAR NOT NULL
);

-- One linear model per question and fold, with the feature standardisation folded in:
-- P(Yes) = 1 / (1 + exp(-(vector . coef + intercept))). fold -1 is fitted on all tasks.
CREATE TABLE calibration_weights (
    head_id   VARCHAR NOT NULL,
    question  VARCHAR NOT NULL,
    fold      INTEGER NOT NULL,
    coef      DOUBLE[] NOT NULL,
    intercept DOUBLE NOT NULL,
    PRIMARY KEY (head_id, question, fold)
);

-- The fold each training occupation fell in: its tasks are scored by the model of that
-- fold, which never saw them, so out-of-fold scores carry no leakage.
CREATE TABLE calibration_folds (
    head_id       VARCHAR NOT NULL,
    onet_soc_code VARCHAR NOT NULL,
    fold          INTEGER NOT NULL,
    PRIMARY KEY (head_id, onet_soc_code)
);

DROP VIEW task_measures;

-- view: task_measures
-- One row per scored prompt (task text with its occupation), model, rubric and head: the
-- probabilities of the four rubric questions and the measures derived from them:
--   alpha        = P(direct)                           exposed to a chat assistant alone
--   beta         = P(direct) + 0.5 * max(0, P(software) - P(direct))
--   zeta         = max(P(direct), P(software))         exposed with LLM-powered software
--   displacement = P(automation)                       an LLM system could do it end to end
--   creation     = P(creation)                         LLM use creates new work around it
--   augmentation = zeta * (1 - displacement)           exposed but not automated
-- method is zero-shot (head_id '') or calibrated (head_id names the calibration head);
-- calibrated rows take P(creation) from the zero-shot answer of the same prompt, since no
-- labels exist for it. min_answer_mass is the smallest probability the model put on Yes/No
-- over its zero-shot questions: a low value means it wanted to answer something else.
CREATE VIEW task_measures AS
WITH p AS (
    SELECT task_id, prompt_sha256, model_id, rubric_hash, head_id,
           max(method) AS method,
           max(p_yes) FILTER (WHERE question = 'direct') AS p_direct,
           max(p_yes) FILTER (WHERE question = 'software') AS p_software,
           max(p_yes) FILTER (WHERE question = 'automation') AS p_automation,
           max(p_yes) FILTER (WHERE question = 'creation') AS p_creation,
           min(answer_mass) AS min_answer_mass,
           max(scored_at) AS scored_at
    FROM task_scores
    GROUP BY task_id, prompt_sha256, model_id, rubric_hash, head_id
),
filled AS (
    SELECT c.task_id, c.prompt_sha256, c.model_id, c.rubric_hash, c.method, c.head_id,
           c.p_direct, c.p_software, c.p_automation,
           coalesce(c.p_creation, z.p_creation) AS p_creation,
           coalesce(c.min_answer_mass, z.min_answer_mass) AS min_answer_mass,
           c.scored_at
    FROM p AS c
    LEFT JOIN p AS z
      ON z.head_id = '' AND c.head_id <> ''
     AND z.task_id = c.task_id AND z.prompt_sha256 = c.prompt_sha256
     AND z.model_id = c.model_id AND z.rubric_hash = c.rubric_hash
)
SELECT
    f.*,
    p_direct AS alpha,
    p_direct + 0.5 * greatest(0, p_software - p_direct) AS beta,
    greatest(p_direct, p_software) AS zeta,
    p_automation AS displacement,
    p_creation AS creation,
    greatest(p_direct, p_software) * (1 - p_automation) AS augmentation
FROM filled AS f;
