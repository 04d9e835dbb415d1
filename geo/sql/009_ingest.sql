-- 009_ingest.sql — cheaper village-level cells.
--
-- A batch of 1 M tests spread over the country upserts ~550 k level-16
-- cells, and each row paid for two things it never used: a 32-bin histogram
-- filled with zeros by the column default (only coarse cells keep one), and
-- a call of the plpgsql trigger that derives p10/p50 from that histogram
-- (level-16 cells get theirs exactly from the raw rows).  Measured: 7.5 µs
-- per upserted cell before, see BENCHMARKS.md.
ALTER TABLE coverage_cells ALTER COLUMN hist DROP DEFAULT, ALTER COLUMN hist DROP NOT NULL;
UPDATE coverage_cells SET hist = NULL WHERE res = 16;
ALTER TABLE coverage_cells ADD CONSTRAINT coverage_cells_hist_check
    CHECK ((res = 16) = (hist IS NULL));

DROP TRIGGER coverage_cells_derive ON coverage_cells;
CREATE TRIGGER coverage_cells_derive BEFORE INSERT OR UPDATE ON coverage_cells
    FOR EACH ROW WHEN (NEW.res < 16) EXECUTE FUNCTION coverage_cells_derive();

-- One index on measurements instead of two.  The primary key used to be
-- (measured_at, dedupe_key) beside a (cell16, measured_at) index for "tests
-- near a point"; every inserted row paid for both, and a quarter of a 1 M-row
-- batch's load time went into the second.  Leading with the cell, one key
-- serves both: a row's cell comes from its position, which is part of its
-- content, so the same test always lands on the same key.  (A test keyed by
-- its source's own test id and sent again with a position moved into another
-- ~600 m cell would be stored twice; positions of one test do not move.)
ALTER TABLE measurements DROP CONSTRAINT measurements_pkey;
DROP INDEX measurements_cell_idx;
ALTER TABLE measurements ADD PRIMARY KEY (cell16, measured_at, dedupe_key);

-- The insert policy read the request context once per row (2.4 µs each:
-- a quarter of a 1 M-row batch's insert).  As scalar subqueries the context
-- is read once per statement (an InitPlan); the rule is the same.
DROP POLICY measurements_insert ON measurements;
CREATE POLICY measurements_insert ON measurements FOR INSERT WITH CHECK (
    (SELECT ctx_role()) IN ('ministry', 'system', 'locality')
    OR ((SELECT ctx_role()) = 'carrier' AND carrier_code = (SELECT ctx_carrier())));

-- Loading straight into a month's partition.  PostgreSQL refuses COPY into
-- a table under row-level security, and going through a staging table and
-- INSERT ... SELECT cost 6 µs a row.  So ingest COPYs each month's rows into
-- that month's partition: the application may INSERT into a partition (never
-- SELECT, UPDATE or DELETE it), partitions have no row-level security of
-- their own, and every read still goes through `measurements`, whose
-- policies apply.  The insert policy (a carrier loads only its own tests)
-- is checked by ingest after the COPY through those read policies: the rows
-- of the batch the caller can see must be all the rows it loaded.
CREATE OR REPLACE FUNCTION measurements_ensure_partitions(p_from timestamptz, p_to timestamptz)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    m date := date_trunc('month', p_from AT TIME ZONE 'UTC')::date;
    made integer := 0;
    name text;
BEGIN
    IF p_to - p_from > interval '40 years' THEN
        RAISE EXCEPTION 'partition range too wide: % to %', p_from, p_to;
    END IF;
    WHILE (m::timestamp AT TIME ZONE 'UTC') < p_to LOOP
        name := format('measurements_%s', to_char(m, 'YYYY_MM'));
        IF to_regclass(name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF measurements FOR VALUES FROM (%L) TO (%L)',
                           name, m::timestamp AT TIME ZONE 'UTC',
                           (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
            EXECUTE format('GRANT INSERT ON %I TO lomsong_app', name);
            made := made + 1;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN made;
END $$;

DO $$
DECLARE part regclass;
BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits
                 WHERE inhparent = 'measurements'::regclass LOOP
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY', part);
        EXECUTE format('GRANT INSERT ON %s TO lomsong_app', part);
    END LOOP;
END $$;
