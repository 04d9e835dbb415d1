-- 010_ingest_rows.sql — cheaper rows for measurement ingest.
--
-- Measured on a 1 M-row batch COPYed into a partition (BENCHMARKS.md,
-- "Ingest: where the server's time goes"):
--  * `id` was a surrogate nobody reads (the primary key is the test's own
--    key); its nextval() per row cost 0.5-0.9 s of the 1.1 s heap insert.
--  * the btree on batch_id cost 0.5-0.9 s per million rows.  A batch's rows
--    are appended together, so a BRIN index finds them (the carrier check,
--    verification and the duplicate path read a batch back) at ~0.05 s.
ALTER TABLE measurements DROP COLUMN id;
DROP SEQUENCE measurements_id_seq;

DROP INDEX measurements_batch_idx;
CREATE INDEX measurements_batch_brin ON measurements USING brin (batch_id) WITH (pages_per_range = 16);

-- Coarse cells: ingest stores a new cell with the p10/p50 read off its
-- histogram (hist_pct's steps, in C: a test checks they agree), which saved
-- two plpgsql calls per cell.  The trigger still derives them when a writer
-- leaves them out, and whenever the histogram changes.
DROP TRIGGER coverage_cells_derive ON coverage_cells;
CREATE TRIGGER coverage_cells_derive BEFORE INSERT ON coverage_cells
    FOR EACH ROW WHEN (NEW.res < 16 AND (NEW.p10_download IS NULL OR NEW.p50_download IS NULL))
    EXECUTE FUNCTION coverage_cells_derive();
CREATE TRIGGER coverage_cells_derive_hist BEFORE UPDATE ON coverage_cells
    FOR EACH ROW WHEN (NEW.res < 16 AND NEW.hist IS DISTINCT FROM OLD.hist)
    EXECUTE FUNCTION coverage_cells_derive();
