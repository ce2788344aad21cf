-- 009_new_work: which task statements are new work since an earlier O*NET release, per task,
-- occupation and task family (see jobimpact/history.py for the rule).

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
