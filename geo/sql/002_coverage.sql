-- 002_coverage.sql — what measurement ingest and coverage maps need.
--
-- Cells are Web Mercator tiles: a cell of level z is tile (z, x, y), so a
-- map tile of zoom z - k holds 2^k x 2^k cells and needs no geometry work.
-- Levels kept: 7 (~300 km), 10 (~38 km), 13 (~4.7 km) and 16 (~590 m at
-- Vietnam's latitudes: village-level dead zones).  Every measurement keeps
-- its level-16 cell (x << 16 | y), indexed, which also serves "measurements
-- within 500 m of a point" without a GiST index on 10 M rows: the
-- candidate cells are found by arithmetic, the exact distance checked after.

ALTER TABLE measurements ADD COLUMN cell16 bigint NOT NULL DEFAULT 0;
ALTER TABLE measurements ALTER COLUMN cell16 DROP DEFAULT;
DROP INDEX measurements_geom_idx;
CREATE INDEX measurements_cell_idx ON measurements (cell16, measured_at);

-- Speeds are checked against the carriers list by ingest; a per-row foreign
-- key check was a third of the insert time of a 1 M-row batch.
ALTER TABLE measurements DROP CONSTRAINT measurements_carrier_code_fkey;

-- Cells are addressed by (res, x, y); their polygon is computed when asked
-- for (cell_geom), not stored: a batch of 1 M rows touches ~700 k new
-- village-level cells, and transforming each one's envelope cost seconds.
ALTER TABLE coverage_cells DROP COLUMN geom;

-- Village-level (16) cells hold few rows: ingest sets their p10/p50 exactly
-- from the raw rows.  Coarser cells keep a 32-bin histogram of download
-- speeds, which adds up batch by batch without rereading millions of rows;
-- their p10/p50 are read off it (exact to the bin: 5 Mbps around the
-- 40 Mbps minimum).
CREATE FUNCTION hist_edges() RETURNS float8[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT '{0,1,2,3,5,7.5,10,15,20,25,30,35,40,45,50,60,70,80,100,125,150,200,250,300,400,500,750,1000,1500,2500,5000,10000}'::float8[]
$$;

-- The bin (0..31) of a download speed.
CREATE FUNCTION hist_bin(d real) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT greatest(width_bucket(d::float8, hist_edges()), 1) - 1
$$;

-- The p-quantile (0..1) of a histogram, interpolated inside its bin as
-- percentile_cont interpolates between values.
CREATE FUNCTION hist_pct(h integer[], p float8) RETURNS real
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    e float8[] := hist_edges();
    total bigint := 0;
    target float8;
    cum bigint := 0;
    hi float8;
BEGIN
    FOR i IN 1 .. array_length(h, 1) LOOP
        total := total + h[i];
    END LOOP;
    IF total = 0 THEN
        RETURN NULL;
    END IF;
    target := p * total;
    FOR i IN 1 .. array_length(h, 1) LOOP
        IF h[i] > 0 AND cum + h[i] >= target THEN
            hi := CASE WHEN i < array_length(e, 1) THEN e[i + 1] ELSE e[i] * 2 END;
            RETURN (e[i] + (hi - e[i]) * greatest(target - cum, 0) / h[i])::real;
        END IF;
        cum := cum + h[i];
    END LOOP;
    RETURN e[array_length(e, 1)]::real;
END $$;

ALTER TABLE coverage_cells ADD COLUMN hist integer[] NOT NULL DEFAULT array_fill(0, ARRAY[32]);

CREATE FUNCTION coverage_cells_derive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.res < 16 AND (TG_OP = 'INSERT' OR NEW.hist IS DISTINCT FROM OLD.hist) THEN
        NEW.p10_download := hist_pct(NEW.hist, 0.1);
        NEW.p50_download := hist_pct(NEW.hist, 0.5);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER coverage_cells_derive BEFORE INSERT OR UPDATE ON coverage_cells
    FOR EACH ROW EXECUTE FUNCTION coverage_cells_derive();

-- The WGS 84 polygon of a cell.
CREATE FUNCTION cell_geom(z integer, x integer, y integer) RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ST_Transform(ST_TileEnvelope(z, x, y), 4326)
$$;
