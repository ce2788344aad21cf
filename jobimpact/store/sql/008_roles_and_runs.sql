-- 008_roles_and_runs: the role each rubric question plays in the measures (so a rubric
-- with other question keys reaches every measure), the process behind each run (so a run
-- whose process died can be told from one still working), and the derived views.

CREATE TABLE rubric_questions (
    rubric_hash VARCHAR NOT NULL,
    question    VARCHAR NOT NULL,  -- the rubric's question key, as in task_scores.question
    role        VARCHAR,           -- direct | software | automation | creation, or NULL
    position    INTEGER NOT NULL,  -- order of the question in the rubric
    PRIMARY KEY (rubric_hash, question)
);

-- Rubrics stored before roles existed: a question whose key is a role name plays it.
INSERT INTO rubric_questions
SELECT r.rubric_hash,
       q.value ->> 'key' AS question,
       CASE WHEN coalesce(q.value ->> 'role', q.value ->> 'key')
                 IN ('direct', 'software', 'automation', 'creation')
            THEN coalesce(q.value ->> 'role', q.value ->> 'key') END AS role,
       CAST(q.key AS INTEGER) AS position
FROM rubrics AS r, json_each(r.definition -> 'questions') AS q;

ALTER TABLE runs ADD COLUMN pid INTEGER;   -- operating-system process id of the run

-- Views generated from code (store/sql/views/*.sql rendered with jobimpact.measures):
-- the sha256 of each rendered definition, so a store is refreshed when a definition changes.
CREATE TABLE derived_views (
    name       VARCHAR PRIMARY KEY,
    sha256     VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- task_measures is now a derived view (store/sql/views/task_measures.sql): the store's
-- refresh replaces the definition of 006 right after the migrations.
