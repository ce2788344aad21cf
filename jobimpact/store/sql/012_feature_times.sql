-- 012_feature_times: when each feature vector was computed. The latest features of a model
-- are a scoring of their own (zero-shot, no answers yet): after a feature pass with no head
-- for its features, `jobimpact calibrate` finds them by default. Vectors stored before keep
-- NULL and rank after every dated one.

ALTER TABLE task_features ADD COLUMN computed_at TIMESTAMP;
