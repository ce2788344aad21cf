-- 011_feature_tasks: a feature vector names its task and rubric, so a scorer that asks no
-- question (the feature pass: a calibration head gives every probability) leaves features
-- a head can find without zero-shot answers beside them.

ALTER TABLE task_features ADD COLUMN task_id INTEGER;
ALTER TABLE task_features ADD COLUMN rubric_hash VARCHAR;

-- Vectors stored before: their task and rubric are those of the zero-shot answers of the
-- same prompt.
UPDATE task_features AS f SET
    task_id = s.task_id,
    rubric_hash = s.rubric_hash
FROM (
    SELECT prompt_sha256, model_id, min(task_id) AS task_id, min(rubric_hash) AS rubric_hash
    FROM task_scores WHERE head_id = '' GROUP BY ALL
) AS s
WHERE f.prompt_sha256 = s.prompt_sha256 AND f.model_id = s.model_id;
