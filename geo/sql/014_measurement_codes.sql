-- 014_measurement_codes.sql — a measurement's carrier, technology and
-- province as small integers.
--
-- Every row carried three short texts ('viettel', '4G', '01'): three
-- varlena values the server receives, copies and lays out for each row
-- loaded.  As smallints they are fixed-width and taken as they are: loading
-- a month of 378,635 rows by COPY into the heap took 366-396 ms instead of
-- 496-526 ms (BENCHMARKS.md, measurement ingest, session 5).
--   carrier   carriers.num (a number each carrier gets once)
--   tech      the generation: 2, 3, 4 or 5 ('4G' -> 4)
--   province  the province's code as a number ('01' -> 1); province codes
--             are two digits (the check below holds them to it)
-- Readers that want the texts join carriers and write tech || 'G'.

CREATE SEQUENCE carriers_num_seq AS smallint;
ALTER TABLE carriers ADD COLUMN num smallint NOT NULL DEFAULT nextval('carriers_num_seq');
ALTER SEQUENCE carriers_num_seq OWNED BY carriers.num;
ALTER TABLE carriers ADD CONSTRAINT carriers_num_key UNIQUE (num);

ALTER TABLE admin_units ADD CONSTRAINT admin_units_province_code_check
    CHECK (level <> 'province' OR code ~ '^[0-9]{2}$');

ALTER TABLE measurements ADD COLUMN carrier smallint, ADD COLUMN tech smallint,
    ADD COLUMN province smallint;
-- Partition by partition, as in 013 (no UPDATE policy on `measurements`).
DO $$
DECLARE part regclass;
BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits
                 WHERE inhparent = 'measurements'::regclass LOOP
        EXECUTE format('UPDATE %s m SET carrier = c.num, tech = left(m.technology, 1)::smallint,'
                       ' province = m.province_code::smallint'
                       ' FROM carriers c WHERE c.code = m.carrier_code', part);
        EXECUTE format('UPDATE %s SET tech = left(technology, 1)::smallint,'
                       ' province = province_code::smallint WHERE carrier_code IS NULL', part);
    END LOOP;
END $$;

-- The policies name the old columns: they go first.
DROP POLICY measurements_read ON measurements;
DROP POLICY measurements_insert ON measurements;
ALTER TABLE measurements DROP COLUMN carrier_code, DROP COLUMN technology,
    DROP COLUMN province_code;
ALTER TABLE measurements ADD CONSTRAINT measurements_tech_check CHECK (tech BETWEEN 2 AND 5);

-- The same rules as before (001, 009), on the numbers.  The carrier's number
-- and the context are read once per statement (InitPlans).
CREATE POLICY measurements_read ON measurements FOR SELECT USING (
    (SELECT ctx_role()) IN ('ministry', 'system')
    OR ((SELECT ctx_role()) = 'carrier'
        AND carrier = (SELECT num FROM carriers WHERE code = (SELECT ctx_carrier())))
    OR ((SELECT ctx_role()) = 'locality' AND ctx_in_area(lpad(province::text, 2, '0'), NULL)));
CREATE POLICY measurements_insert ON measurements FOR INSERT WITH CHECK (
    (SELECT ctx_role()) IN ('ministry', 'system', 'locality')
    OR ((SELECT ctx_role()) = 'carrier'
        AND carrier = (SELECT num FROM carriers WHERE code = (SELECT ctx_carrier()))));

-- Tests near a point (013), on the numbers.
CREATE OR REPLACE FUNCTION point_evidence(p_point bigint, since timestamptz, radius_m float8,
                                          OUT tests integer, OUT days integer, OUT meeting integer)
LANGUAGE sql STABLE AS $$
    WITH p AS (SELECT id, geom, left(technology, 1)::smallint AS tech,
                      ST_X(geom) AS lon, ST_Y(geom) AS lat
                 FROM dz_points WHERE id = p_point),
         k AS (SELECT greatest(1, ceil(radius_m / (611.5 * cos(radians(p.lat)))))::int AS k,
                      cell16_of(p.lon, p.lat) AS c FROM p),
         cells AS (SELECT (((k.c >> 16) + dx) << 16) | ((k.c & 65535) + dy) AS cell
                     FROM k, generate_series(-k.k, k.k) dx, generate_series(-k.k, k.k) dy),
         carriers AS (SELECT array_agg(c.num) AS nums FROM assignments a
                        JOIN carriers c ON c.code = a.carrier_code
                       WHERE a.point_id = p_point AND a.status <> 'withdrawn')
    SELECT count(*)::int,
           count(DISTINCT (m.measured_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)::int,
           count(*) FILTER (WHERE m.meets_min)::int
      FROM p, carriers, cells, measurements m
     WHERE m.cell16 = cells.cell AND m.measured_at > since
       AND m.tech = p.tech
       AND (carriers.nums IS NULL OR m.carrier = ANY (carriers.nums))
       AND ST_DWithin(measurement_geom(m.lon7, m.lat7)::geography, p.geom::geography, radius_m)
$$;

-- The village cells' recompute (011), finding raw rows by the numbers.
CREATE OR REPLACE FUNCTION coverage_blocks_recompute() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    INSERT INTO coverage_blocks AS b
    SELECT k.block_x, k.block_y, k.carrier_code, k.technology,
           array_agg(x.sub ORDER BY x.sub), array_agg(x.tests ORDER BY x.sub),
           array_agg(x.meeting_min ORDER BY x.sub), array_agg(x.p10 ORDER BY x.sub),
           array_agg(x.p50 ORDER BY x.sub), array_agg(x.last_measured ORDER BY x.sub)
      FROM (SELECT DISTINCT t.block_x, t.block_y, t.carrier_code, t.technology, c.num,
                   left(t.technology, 1)::smallint AS tech
              FROM ingest_touched16 t JOIN carriers c ON c.code = t.carrier_code) k
     CROSS JOIN LATERAL (
           SELECT u.sub, u.tests, u.meeting_min, u.p10_download AS p10, u.p50_download AS p50,
                  u.last_measured
             FROM coverage_blocks o
            CROSS JOIN LATERAL unnest(o.sub, o.tests, o.meeting_min, o.p10_download,
                                      o.p50_download, o.last_measured)
                  AS u(sub, tests, meeting_min, p10_download, p50_download, last_measured)
            WHERE o.block_x = k.block_x AND o.block_y = k.block_y
              AND o.carrier_code = k.carrier_code AND o.technology = k.technology
              AND NOT EXISTS (SELECT 1 FROM ingest_touched16 t
                               WHERE t.block_x = k.block_x AND t.block_y = k.block_y
                                 AND t.carrier_code = k.carrier_code
                                 AND t.technology = k.technology AND t.sub = u.sub)
           UNION ALL
           SELECT t.sub, e.tests, e.meeting_min, e.p10, e.p50, e.last_measured
             FROM ingest_touched16 t
            CROSS JOIN LATERAL (
                  SELECT count(*)::integer AS tests,
                         count(*) FILTER (WHERE m.meets_min)::integer AS meeting_min,
                         coalesce(percentile_cont(0.1) WITHIN GROUP (ORDER BY m.download_mbps), 0)::real AS p10,
                         coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY m.download_mbps), 0)::real AS p50,
                         max(m.measured_at) AS last_measured
                    FROM measurements m
                   WHERE m.cell16 = (((t.block_x << 3) | (t.sub & 7))::bigint << 16
                                     | ((t.block_y << 3) | (t.sub >> 3)))
                     AND m.carrier = k.num AND m.tech = k.tech) e
            WHERE t.block_x = k.block_x AND t.block_y = k.block_y
              AND t.carrier_code = k.carrier_code AND t.technology = k.technology
              AND e.tests > 0) x
     GROUP BY k.block_x, k.block_y, k.carrier_code, k.technology
    ON CONFLICT (block_x, block_y, carrier_code, technology) DO UPDATE
       SET sub = excluded.sub, tests = excluded.tests, meeting_min = excluded.meeting_min,
           p10_download = excluded.p10_download, p50_download = excluded.p50_download,
           last_measured = excluded.last_measured;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
