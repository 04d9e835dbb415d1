-- 016_measurement_key.sql — each month's tests unique on (cell16, dedupe_key).
--
-- A unique key on a partitioned table must hold the partition key, so the
-- primary key of 009 was (cell16, measured_at, dedupe_key): 8 bytes of time
-- in every entry (32 bytes with the entry's header instead of 24), and a
-- third column to compare on every descent of a load.  Each month's
-- partition gets a unique index of its own on (cell16, dedupe_key) instead;
-- the month is the partition.  Measured on one month of 378,635 rows COPYed
-- in sorted runs of 64 k, as ingest sends them: 885-942 ms against 959-1028
-- ms (10 interleaved pairs), index 15 MB against 19 MB (BENCHMARKS.md).
--
-- What the key means: a key made from the row's content hashes its time,
-- so the same content always lands in the same month: nothing changes.  A
-- key made from the source's own test id holds no time: the same test sent
-- again with another time in the same cell and month used to be stored
-- twice and is a duplicate now, as a test id means (in another month it is
-- still stored twice, a limit like the moved-cell one of 009).
-- Reads: a cell's tests are found by the index's first column as before; a
-- time range is checked on the cell's rows, in the partitions the range
-- leaves after pruning.

DO $$
DECLARE part regclass;
BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits
                 WHERE inhparent = 'measurements'::regclass LOOP
        BEGIN
            EXECUTE format('CREATE UNIQUE INDEX %I ON %s (cell16, dedupe_key)',
                           part::text || '_key', part);
        EXCEPTION WHEN unique_violation THEN
            RAISE EXCEPTION '%: a test id is stored twice in one cell and month (with two times)',
                part
                USING HINT = format('Review: SELECT cell16, dedupe_key, count(*) FROM %s GROUP BY 1, 2'
                                    ' HAVING count(*) > 1; keep one row of each and migrate again.', part);
        END;
    END LOOP;
END $$;
ALTER TABLE measurements DROP CONSTRAINT measurements_pkey;

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
            EXECUTE format('CREATE UNIQUE INDEX %I ON %I (cell16, dedupe_key)', name || '_key', name);
            EXECUTE format('GRANT INSERT ON %I TO lomsong_app', name);
            made := made + 1;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN made;
END $$;
