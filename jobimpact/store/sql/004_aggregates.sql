-- 004_aggregates: task scores rolled up to occupations, with the views that roll them up
-- further to major groups and the economy.

CREATE TABLE occupation_scores (
    onet_soc_code VARCHAR NOT NULL,
    model_id      VARCHAR NOT NULL,
    rubric_hash   VARCHAR NOT NULL,
    head_id       VARCHAR NOT NULL,   -- '' for zero-shot scores
    weighting     VARCHAR NOT NULL,   -- rating (importance x relevance) | type (core 2, other 1)
    n_tasks       INTEGER NOT NULL,   -- tasks scored in this occupation
    n_tasks_total INTEGER NOT NULL,   -- tasks the occupation has
    alpha DOUBLE, alpha_low DOUBLE, alpha_high DOUBLE, alpha_bernoulli_var DOUBLE,
    beta DOUBLE, beta_low DOUBLE, beta_high DOUBLE, beta_bernoulli_var DOUBLE,
    zeta DOUBLE, zeta_low DOUBLE, zeta_high DOUBLE, zeta_bernoulli_var DOUBLE,
    displacement DOUBLE, displacement_low DOUBLE, displacement_high DOUBLE,
    displacement_bernoulli_var DOUBLE,
    augmentation DOUBLE, augmentation_low DOUBLE, augmentation_high DOUBLE,
    augmentation_bernoulli_var DOUBLE,
    creation DOUBLE, creation_low DOUBLE, creation_high DOUBLE, creation_bernoulli_var DOUBLE,
    share_exposed DOUBLE,             -- expected share of exposed tasks (= beta, E1 + E2 / 2)
    share_tasks_above_half DOUBLE,    -- weighted share of its tasks with beta > 0.5
    quadrant      VARCHAR,            -- at risk | transforming | augmented/growing | little change
    creation_axis VARCHAR,            -- augmentation (default) or creation
    displacement_threshold DOUBLE,    -- quadrant lines (employment-weighted medians by default)
    creation_threshold DOUBLE,
    run_id        VARCHAR NOT NULL,
    PRIMARY KEY (onet_soc_code, model_id, rubric_hash, head_id, weighting)
);

-- view: occupation_impact
-- One row per occupation and scoring (model, rubric, head, weighting): the occupation's
-- importance-weighted measures with 95% bootstrap intervals over its tasks, the share of its
-- tasks exposed (beta, as Eloundou et al.) and of tasks with beta above 0.5, its
-- displacement-versus-creation quadrant, and its employment and wages.
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
    sum(augmentation * employment) / sum(employment) AS augmentation,
    sum(creation * employment) / sum(employment) AS creation,
    sum(displacement * wage_bill) / sum(wage_bill) AS displacement_wage_weighted,
    sum(augmentation * wage_bill) / sum(wage_bill) AS augmentation_wage_weighted,
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
-- labels), and the share of employment and the wage bill in each quadrant.
CREATE VIEW economy_impact AS
SELECT
    model_id, rubric_hash, head_id, weighting,
    count(*) AS n_occupations,
    sum(n_tasks) AS n_tasks_scored,
    sum(employment) AS employment,
    sum(beta * employment) / sum(employment) AS beta,
    sum(displacement * employment) / sum(employment) AS displacement,
    sum(augmentation * employment) / sum(employment) AS augmentation,
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
