-- 009_creation: creation as a measured axis. Which task statements are new work since an
-- earlier O*NET release, per task, occupation and task family (see jobimpact/history.py for
-- the rule); the roll-ups lose the augmentation formula (zeta * (1 - displacement)), whose
-- role the creation measure (a head learnt from observed use) now plays, and gain quadrant
-- lines with a stated meaning beside the relative (median) split.

CREATE TABLE baseline_tasks (
    release       VARCHAR NOT NULL,  -- the earlier release, e.g. 20.1
    onet_soc_code VARCHAR NOT NULL,  -- in that release's taxonomy (2010 for 20.1)
    task_id       INTEGER NOT NULL,
    task          VARCHAR NOT NULL,
    PRIMARY KEY (onet_soc_code, task_id)
);

CREATE TABLE task_history (
    task_id          INTEGER PRIMARY KEY,
    status           VARCHAR NOT NULL,  -- established | renumbered | revised | new | new occupation
    new_since        VARCHAR,           -- the baseline release, for new tasks (e.g. 20.1)
    similarity       DOUBLE,            -- difflib ratio to the closest predecessor statement
                                        -- (renumbered and revised tasks; else NULL)
    baseline_release VARCHAR NOT NULL   -- the earlier release compared with
);

-- view: task_new_work
-- One row per task statement: whether it is new work since the baseline O*NET release
-- (status: established = its Task ID is in the baseline; renumbered = a new ID with the text
-- of a predecessor statement; revised = a new ID whose text is a near-duplicate (difflib
-- ratio >= 0.8) of one; new = none of these, in an occupation that existed then; new
-- occupation = no predecessor occupation with tasks), new_since, and for renumbered and
-- revised tasks the similarity to the closest predecessor statement.
CREATE VIEW task_new_work AS
SELECT t.task_id, t.onet_soc_code, o.title, t.task, t.task_type,
       h.status, h.status = 'new' AS is_new, h.new_since, h.similarity, h.baseline_release
FROM tasks AS t
JOIN occupations AS o USING (onet_soc_code)
JOIN task_history AS h USING (task_id);

-- view: occupation_new_work
-- One row per occupation with tasks: its tasks by status against the baseline release, the
-- share of its tasks that are new work (n_new / n_tasks), whether the occupation itself is
-- new, and its O*NET emerging tasks (proposed new and revised statements) absolute and per
-- task: the new-work evidence beside an occupation's creation score.
CREATE VIEW occupation_new_work AS
WITH counts AS (
    SELECT onet_soc_code,
           count(*) AS n_tasks,
           count(*) FILTER (WHERE status = 'new') AS n_new,
           count(*) FILTER (WHERE status = 'revised') AS n_revised,
           count(*) FILTER (WHERE status = 'renumbered') AS n_renumbered,
           count(*) FILTER (WHERE status = 'new occupation') > 0 AS new_occupation,
           any_value(baseline_release) AS baseline_release
    FROM task_new_work GROUP BY onet_soc_code
),
emerging AS (
    SELECT onet_soc_code,
           count(*) FILTER (WHERE category = 'New') AS n_emerging_new,
           count(*) FILTER (WHERE category = 'Revision') AS n_emerging_revision
    FROM emerging_tasks GROUP BY onet_soc_code
)
SELECT c.onet_soc_code, o.title, o.soc_major, o.employment,
       c.n_tasks, c.n_new, c.n_revised, c.n_renumbered,
       c.n_new / c.n_tasks AS share_new,
       c.new_occupation, c.baseline_release,
       coalesce(e.n_emerging_new, 0) AS n_emerging_new,
       coalesce(e.n_emerging_revision, 0) AS n_emerging_revision,
       (coalesce(e.n_emerging_new, 0) + coalesce(e.n_emerging_revision, 0)) / c.n_tasks
           AS emerging_per_task
FROM counts AS c
JOIN occupation_overview AS o USING (onet_soc_code)
LEFT JOIN emerging AS e USING (onet_soc_code);

-- view: family_new_work
-- One row per task family of each clustering: its tasks, how many are new work since the
-- baseline release and their share, and the O*NET emerging tasks nearest to it.
CREATE VIEW family_new_work AS
WITH tasks_by_family AS (
    SELECT c.clustering_id, c.cluster_id,
           count(*) AS n_tasks,
           count(*) FILTER (WHERE h.status = 'new') AS n_new
    FROM task_clusters AS c JOIN task_history AS h USING (task_id)
    WHERE c.cluster_id >= 0
    GROUP BY ALL
),
emerging AS (
    SELECT clustering_id, cluster_id, count(*) AS n_emerging_tasks
    FROM emerging_task_clusters GROUP BY ALL
)
SELECT f.clustering_id, f.cluster_id, l.label, f.n_tasks, f.n_new,
       f.n_new / f.n_tasks AS share_new,
       coalesce(e.n_emerging_tasks, 0) AS n_emerging_tasks
FROM tasks_by_family AS f
JOIN cluster_labels AS l USING (clustering_id, cluster_id)
LEFT JOIN emerging AS e USING (clustering_id, cluster_id);

-- The observed-use files a validation also compared the creation score with.
ALTER TABLE validations ADD COLUMN creation_labels_name VARCHAR;
ALTER TABLE validations ADD COLUMN creation_labels_sha256 VARCHAR;
ALTER TABLE validations ADD COLUMN n_creation_labelled INTEGER;  -- matched tasks with >= 50%
                                                                 -- of conversations classified

-- Roll-ups made before this migration used the augmentation formula on the creation axis
-- and median lines; they are derived data, so they are dropped (run jobimpact aggregate).
DROP VIEW economy_impact;
DROP VIEW major_group_impact;
DROP VIEW occupation_impact;
DROP VIEW task_family_impact;
DELETE FROM occupation_scores;
ALTER TABLE occupation_scores DROP COLUMN augmentation;
ALTER TABLE occupation_scores DROP COLUMN augmentation_low;
ALTER TABLE occupation_scores DROP COLUMN augmentation_high;
ALTER TABLE occupation_scores DROP COLUMN augmentation_bernoulli_var;
ALTER TABLE occupation_scores DROP COLUMN creation_axis;
ALTER TABLE occupation_scores ADD COLUMN quadrant_relative VARCHAR;   -- split at the medians
ALTER TABLE occupation_scores ADD COLUMN displacement_median DOUBLE;  -- employment-weighted
ALTER TABLE occupation_scores ADD COLUMN creation_median DOUBLE;

-- view: occupation_impact
-- One row per occupation and scoring (model, rubric, head, weighting): the occupation's
-- importance-weighted measures with 95% bootstrap intervals over its tasks, the share of its
-- tasks exposed (beta, as Eloundou et al.) and of tasks with beta above 0.5, its
-- displacement-versus-creation quadrant (lines at displacement_threshold and
-- creation_threshold, 0.5 by default: "more likely than not"), its quadrant_relative (lines
-- at the employment-weighted medians), and its employment and wages.
CREATE VIEW occupation_impact AS
SELECT
    s.*,
    o.title,
    o.soc_major,
    o.major_group,
    o.employment,
    o.annual_mean_wage,
    o.wage_bill
FROM occupation_scores AS s
JOIN occupation_overview AS o USING (onet_soc_code);

-- view: major_group_impact
-- One row per SOC major group and scoring: employment-weighted means of the occupation
-- measures (occupations without an employment figure are left out), wage-bill-weighted
-- displacement and creation, and the employment in each quadrant.
CREATE VIEW major_group_impact AS
SELECT
    model_id, rubric_hash, head_id, weighting, soc_major, major_group,
    count(*) AS n_occupations,
    sum(n_tasks) AS n_tasks_scored,
    sum(employment) AS employment,
    sum(alpha * employment) / sum(employment) AS alpha,
    sum(beta * employment) / sum(employment) AS beta,
    sum(zeta * employment) / sum(employment) AS zeta,
    sum(displacement * employment) / sum(employment) AS displacement,
    sum(creation * employment) / sum(employment) AS creation,
    sum(displacement * wage_bill) / sum(wage_bill) AS displacement_wage_weighted,
    sum(creation * wage_bill) / sum(wage_bill) AS creation_wage_weighted,
    coalesce(sum(employment) FILTER (WHERE quadrant = 'at risk'), 0) AS employment_at_risk,
    coalesce(sum(employment) FILTER (WHERE quadrant = 'transforming'), 0) AS employment_transforming,
    coalesce(sum(employment) FILTER (WHERE quadrant = 'augmented/growing'), 0) AS employment_augmented,
    coalesce(sum(employment) FILTER (WHERE quadrant = 'little change'), 0) AS employment_little_change
FROM occupation_impact
WHERE employment > 0
GROUP BY ALL
ORDER BY model_id, rubric_hash, head_id, weighting, soc_major;

-- view: economy_impact
-- One row per scoring: employment-weighted measures over all occupations with employment,
-- the share of workers in occupations with at least 10% and at least 50% of their tasks
-- exposed (the headline figures of Eloundou et al. 2023, about 80% and 19% with GPT-4
-- labels), and the share of employment and the wage bill in each quadrant (lines with a
-- stated meaning; see occupation_impact).
CREATE VIEW economy_impact AS
SELECT
    model_id, rubric_hash, head_id, weighting,
    count(*) AS n_occupations,
    sum(n_tasks) AS n_tasks_scored,
    sum(employment) AS employment,
    sum(beta * employment) / sum(employment) AS beta,
    sum(displacement * employment) / sum(employment) AS displacement,
    sum(creation * employment) / sum(employment) AS creation,
    coalesce(sum(employment) FILTER (WHERE share_exposed >= 0.1), 0) / sum(employment) AS workers_10pct_exposed,
    coalesce(sum(employment) FILTER (WHERE share_exposed >= 0.5), 0) / sum(employment) AS workers_50pct_exposed,
    coalesce(sum(employment) FILTER (WHERE quadrant = 'at risk'), 0) / sum(employment) AS share_at_risk,
    coalesce(sum(employment) FILTER (WHERE quadrant = 'transforming'), 0) / sum(employment)
        AS share_transforming,
    coalesce(sum(employment) FILTER (WHERE quadrant = 'augmented/growing'), 0) / sum(employment)
        AS share_augmented,
    coalesce(sum(employment) FILTER (WHERE quadrant = 'little change'), 0) / sum(employment)
        AS share_little_change,
    coalesce(sum(wage_bill) FILTER (WHERE quadrant = 'at risk'), 0) AS wage_bill_at_risk,
    coalesce(sum(wage_bill) FILTER (WHERE quadrant = 'transforming'), 0)
        AS wage_bill_transforming,
    coalesce(sum(wage_bill) FILTER (WHERE quadrant = 'augmented/growing'), 0)
        AS wage_bill_augmented,
    coalesce(sum(wage_bill) FILTER (WHERE quadrant = 'little change'), 0)
        AS wage_bill_little_change
FROM occupation_impact
WHERE employment > 0
GROUP BY ALL;

-- view: task_family_impact
-- One row per task family (cluster) of each clustering and scoring: its label, size,
-- example tasks, the number of occupations it spans, the number of O*NET emerging tasks
-- nearest to it (where new work is appearing), the share of its tasks that are new since the
-- baseline release, and its mean displacement and creation weighted by the employment of
-- each task's occupation divided among its tasks (the latest prompt of each task).
CREATE VIEW task_family_impact AS
WITH task_employment AS (
    SELECT t.task_id, t.onet_soc_code, o.employment / nullif(o.n_tasks, 0) AS employment_share
    FROM tasks AS t JOIN occupation_overview AS o USING (onet_soc_code)
),
emerging AS (
    SELECT clustering_id, cluster_id, count(*) AS n_emerging_tasks
    FROM emerging_task_clusters GROUP BY ALL
),
latest AS (
    SELECT * FROM task_measures
    QUALIFY row_number() OVER (
        PARTITION BY task_id, model_id, rubric_hash, head_id ORDER BY scored_at DESC
    ) = 1
),
scored AS (
    SELECT c.clustering_id, c.cluster_id, m.model_id, m.rubric_hash, m.head_id,
           count(*) AS n_tasks_scored,
           sum(m.displacement * e.employment_share) / sum(e.employment_share) AS displacement,
           sum(m.creation * e.employment_share) / sum(e.employment_share) AS creation,
           sum(e.employment_share) AS employment
    FROM task_clusters AS c
    JOIN latest AS m USING (task_id)
    JOIN task_employment AS e USING (task_id)
    GROUP BY ALL
)
SELECT
    l.clustering_id, l.cluster_id, l.label, l.size, l.terms, l.examples,
    (SELECT count(DISTINCT e.onet_soc_code) FROM task_clusters AS c
        JOIN task_employment AS e USING (task_id)
        WHERE c.clustering_id = l.clustering_id AND c.cluster_id = l.cluster_id) AS n_occupations,
    coalesce(em.n_emerging_tasks, 0) AS n_emerging_tasks,
    nw.share_new,
    s.model_id, s.rubric_hash, s.head_id, s.n_tasks_scored,
    s.displacement, s.creation, s.employment
FROM cluster_labels AS l
LEFT JOIN emerging AS em USING (clustering_id, cluster_id)
LEFT JOIN family_new_work AS nw USING (clustering_id, cluster_id)
LEFT JOIN scored AS s USING (clustering_id, cluster_id);
