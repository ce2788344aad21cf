-- 012_feature_times: which run computed each feature vector, and when. The latest features
-- of a model are a scoring of their own (zero-shot, no answers yet), so after a feature pass
-- with no head for its features `jobimpact calibrate` finds them by default; and a feature
-- pass's run counts the tasks it stored. Vectors stored before keep NULL (and rank after
-- every dated one).

ALTER TABLE task_features ADD COLUMN run_id VARCHAR;
ALTER TABLE task_features ADD COLUMN computed_at TIMESTAMP;
