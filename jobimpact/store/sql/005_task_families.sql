-- 005_task_families: text embeddings (content-addressed cache), task-family clusterings,
-- their labels, 2-D map, and the emerging tasks that fall near each family.

CREATE TABLE embeddings (
    text_sha256 VARCHAR NOT NULL,   -- sha256 of the embedded text (UTF-8)
    model_id    VARCHAR NOT NULL,   -- embedding model
    vector      FLOAT[] NOT NULL,   -- L2-normalised
    PRIMARY KEY (text_sha256, model_id)
);

CREATE TABLE clusterings (
    clustering_id VARCHAR PRIMARY KEY, -- sha256 of (embedding model, method, input task hashes)
    model_id      VARCHAR NOT NULL,    -- embedding model
    method        VARCHAR NOT NULL,    -- the fitted estimator with its parameters
    n_clusters    INTEGER NOT NULL,
    silhouette    DOUBLE,              -- cosine silhouette on a fixed sample
    k_scores      JSON,                -- silhouette per candidate k of the default search
    run_id        VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE task_clusters (
    clustering_id VARCHAR NOT NULL,
    task_id       INTEGER NOT NULL,
    cluster_id    INTEGER NOT NULL,    -- -1: left out by a density clusterer
    x             DOUBLE,              -- 2-D map of the embeddings (PCA), for plots
    y             DOUBLE,
    PRIMARY KEY (clustering_id, task_id)
);

CREATE TABLE cluster_labels (
    clustering_id VARCHAR NOT NULL,
    cluster_id    INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    label         VARCHAR NOT NULL,    -- top distinctive terms (class-based TF-IDF)
    terms         VARCHAR[] NOT NULL,
    examples      VARCHAR[] NOT NULL,  -- most central task statements
    PRIMARY KEY (clustering_id, cluster_id)
);

CREATE TABLE emerging_task_clusters (
    clustering_id VARCHAR NOT NULL,
    emerging_id   INTEGER NOT NULL,
    cluster_id    INTEGER NOT NULL,    -- nearest family centroid
    similarity    DOUBLE NOT NULL,     -- cosine similarity to that centroid
    PRIMARY KEY (clustering_id, emerging_id)
);

-- view: task_family_impact
-- One row per task family (cluster) of each clustering and scoring: its label, size,
-- example tasks, the number of occupations it spans, the number of O*NET emerging tasks
-- nearest to it (where new work is appearing), and its mean displacement, augmentation and
-- creation weighted by the employment of each task's occupation divided among its tasks.
CREATE VIEW task_family_impact AS
WITH task_employment AS (
    SELECT t.task_id, t.onet_soc_code, o.employment / nullif(o.n_tasks, 0) AS employment_share
    FROM tasks AS t JOIN occupation_overview AS o USING (onet_soc_code)
),
emerging AS (
    SELECT clustering_id, cluster_id, count(*) AS n_emerging_tasks
    FROM emerging_task_clusters GROUP BY ALL
),
scored AS (
    SELECT c.clustering_id, c.cluster_id, m.model_id, m.rubric_hash, m.head_id,
           count(*) AS n_tasks_scored,
           sum(m.displacement * e.employment_share) / sum(e.employment_share) AS displacement,
           sum(m.augmentation * e.employment_share) / sum(e.employment_share) AS augmentation,
           sum(m.creation * e.employment_share) / sum(e.employment_share) AS creation,
           sum(e.employment_share) AS employment
    FROM task_clusters AS c
    JOIN task_measures AS m USING (task_id)
    JOIN task_employment AS e USING (task_id)
    GROUP BY ALL
)
SELECT
    l.clustering_id, l.cluster_id, l.label, l.size, l.terms, l.examples,
    (SELECT count(DISTINCT e.onet_soc_code) FROM task_clusters AS c
        JOIN task_employment AS e USING (task_id)
        WHERE c.clustering_id = l.clustering_id AND c.cluster_id = l.cluster_id) AS n_occupations,
    coalesce(em.n_emerging_tasks, 0) AS n_emerging_tasks,
    s.model_id, s.rubric_hash, s.head_id, s.n_tasks_scored,
    s.displacement, s.augmentation, s.creation, s.employment
FROM cluster_labels AS l
LEFT JOIN emerging AS em USING (clustering_id, cluster_id)
LEFT JOIN scored AS s USING (clustering_id, cluster_id);
