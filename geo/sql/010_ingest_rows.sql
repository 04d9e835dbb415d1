-- 010_ingest_rows.sql — cheaper rows for measurement ingest.
--
-- Measured on a 1 M-row batch COPYed into a partition (BENCHMARKS.md,
-- measurement ingest, "what the server's share is made of"):
--  * `id` was a surrogate nobody reads (the primary key is the test's own
--    key); its nextval() per row cost 0.5-0.9 s on top of the 1.1 s heap
--    insert.
--  * the btree on batch_id cost 0.5-0.9 s per million rows.  A batch's rows
--    are appended together, so a BRIN index finds them (the carrier check,
--    verification and the duplicate path read a batch back) at ~0.05 s.
ALTER TABLE measurements DROP COLUMN id;
DROP SEQUENCE measurements_id_seq;

DROP INDEX measurements_batch_idx;
-- autosummarize: a filled range is summed up soon (autovacuum's work item),
-- not only at the next vacuum; ranges not summed up yet are read whole.
CREATE INDEX measurements_batch_brin ON measurements USING brin (batch_id)
    WITH (pages_per_range = 16, autosummarize = on);

-- Coverage cells without a row trigger.  The BEFORE trigger that derived a
-- coarse cell's p10/p50 from its histogram fired (as a WHEN test) for every
-- row, and any BEFORE row trigger makes COPY insert row by row instead of
-- in batches: 552 k new village cells took 1.5 s.  The writers set p10/p50
-- themselves now: ingest's upserts with hist_pct() in SQL, and new cells
-- from COPY with hist_pct's steps in C (a test holds them to hist_pct()).
DROP TRIGGER coverage_cells_derive ON coverage_cells;
DROP FUNCTION coverage_cells_derive();
