-- 002_reference_views: analyst views over the reference data.
-- Each view starts with a "-- view:" header that the README's table of views is checked against.

-- view: occupation_overview
-- One row per O*NET-SOC occupation: its SOC 2018 code and major group, job zone,
-- number of tasks (all, core, supplemental), and the employment and wages that the
-- occupation stands for. Employment is BLS OEWS TOT_EMP of the matched OEWS code,
-- split equally among the O*NET-SOC occupations with tasks that share that code
-- (see employment.split_method); wages are those of the OEWS code, not split.
-- employment is NULL where OEWS publishes no figure (e.g. military, self-employed fishers).
CREATE VIEW occupation_overview AS
SELECT
    o.onet_soc_code,
    o.title,
    o.soc_code,
    o.soc_major,
    g.title AS major_group,
    o.job_zone,
    count(t.task_id) AS n_tasks,
    count(t.task_id) FILTER (WHERE t.task_type = 'Core') AS n_core_tasks,
    count(t.task_id) FILTER (WHERE t.task_type = 'Supplemental') AS n_supplemental_tasks,
    e.oews_code,
    e.oews_match,
    e.emp_share,
    e.tot_emp AS employment,
    e.a_mean AS annual_mean_wage,
    e.a_median AS annual_median_wage,
    e.wage_bill
FROM occupations AS o
LEFT JOIN soc_groups AS g ON g.soc_code = o.soc_major
LEFT JOIN tasks AS t ON t.onet_soc_code = o.onet_soc_code
LEFT JOIN employment AS e ON e.onet_soc_code = o.onet_soc_code
GROUP BY ALL;

-- view: task_overview
-- One row per O*NET task statement with its occupation and major group, its type
-- (Core, Supplemental, or NULL for tasks not yet rated), its importance (1-5) and
-- relevance (0-100) ratings, the two task weights used in roll-ups, and its number of
-- detailed work activities (DWAs).
--   weight_rating = importance * relevance / 100 (NULL where the task has no ratings)
--   weight_type   = 2 for core, 1 for supplemental and unrated tasks (Eloundou et al. 2023)
CREATE VIEW task_overview AS
SELECT
    t.task_id,
    t.onet_soc_code,
    o.title AS occupation,
    o.soc_major,
    g.title AS major_group,
    t.task,
    t.task_type,
    t.importance,
    t.relevance,
    t.importance * t.relevance / 100 AS weight_rating,
    CASE WHEN t.task_type = 'Core' THEN 2 ELSE 1 END AS weight_type,
    (SELECT count(*) FROM task_dwas AS d WHERE d.task_id = t.task_id) AS n_dwas,
    t.text_sha256
FROM tasks AS t
JOIN occupations AS o ON o.onet_soc_code = t.onet_soc_code
LEFT JOIN soc_groups AS g ON g.soc_code = o.soc_major;

-- view: major_group_summary
-- One row per SOC 2018 major group: occupations (all, and with tasks), tasks, the
-- employment allocated to its O*NET-SOC occupations, the employment BLS publishes for
-- the whole group, the share of it matched to occupations with tasks, and the wage bill.
CREATE VIEW major_group_summary AS
WITH occ AS (
    SELECT soc_major,
           count(*) AS n_occupations,
           count(*) FILTER (WHERE n_tasks > 0) AS n_occupations_with_tasks,
           sum(n_tasks)::BIGINT AS n_tasks,
           sum(employment) FILTER (WHERE n_tasks > 0) AS employment,
           sum(wage_bill) FILTER (WHERE n_tasks > 0) AS wage_bill
    FROM occupation_overview
    GROUP BY soc_major
)
SELECT
    g.soc_code AS soc_major,
    g.title AS major_group,
    coalesce(occ.n_occupations, 0) AS n_occupations,
    coalesce(occ.n_occupations_with_tasks, 0) AS n_occupations_with_tasks,
    coalesce(occ.n_tasks, 0) AS n_tasks,
    occ.employment,
    w.tot_emp AS oews_employment,
    occ.employment / w.tot_emp AS employment_matched_share,
    occ.wage_bill
FROM soc_groups AS g
LEFT JOIN occ ON occ.soc_major = g.soc_code
LEFT JOIN oews AS w ON w.occ_code = g.soc_code AND w.o_group = 'major'
WHERE g.level = 'major'
ORDER BY g.soc_code;

-- view: employment_coverage
-- One row: total US wage-and-salary employment published by OEWS (code 00-0000), the
-- part allocated to O*NET-SOC occupations that have task statements, its share, and how
-- many occupations with tasks have no employment figure.
CREATE VIEW employment_coverage AS
SELECT
    (SELECT tot_emp FROM oews WHERE occ_code = '00-0000') AS total_employment,
    sum(employment) FILTER (WHERE n_tasks > 0) AS matched_employment,
    sum(employment) FILTER (WHERE n_tasks > 0)
        / (SELECT tot_emp FROM oews WHERE occ_code = '00-0000') AS matched_share,
    count(*) FILTER (WHERE n_tasks > 0) AS occupations_with_tasks,
    count(*) FILTER (WHERE n_tasks > 0 AND employment IS NULL) AS occupations_with_tasks_without_employment
FROM occupation_overview;
