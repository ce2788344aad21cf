-- view: task_measures
-- One row per scored prompt (task text with its occupation), model, rubric and head: the
-- probability of each role (p_direct, p_software, p_automation, p_creation, read from the
-- rubric questions that play it, see rubric_questions) and the measures derived from them
-- (defined once, in jobimpact/measures.py):
$measure_docs
-- method is zero-shot (head_id '') or calibrated (head_id names the calibration head); a
-- calibrated row takes the roles its head does not answer from the zero-shot answers of
-- the same prompt. A zero-shot row is zero-shot-text when any of its answers was read from
-- the model's text (P(Yes) 0 or 1; the server gave no probabilities), as max() picks it. A measure is NULL when a role it reads has no answer. min_answer_mass
-- is the smallest probability the model put on Yes/No over its zero-shot questions: a low
-- value means it wanted to answer something else.
CREATE OR REPLACE VIEW task_measures AS
WITH answers AS (
    SELECT s.*, q.role
    FROM task_scores AS s
    JOIN rubric_questions AS q ON q.rubric_hash = s.rubric_hash AND q.question = s.question
),
p AS (
    SELECT task_id, prompt_sha256, model_id, rubric_hash, head_id,
           max(method) AS method,
           $role_columns,
           min(answer_mass) AS min_answer_mass,
           max(scored_at) AS scored_at
    FROM answers
    GROUP BY task_id, prompt_sha256, model_id, rubric_hash, head_id
),
filled AS (
    SELECT c.task_id, c.prompt_sha256, c.model_id, c.rubric_hash, c.method, c.head_id,
           $filled_columns,
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
    $measures
FROM filled AS f;
