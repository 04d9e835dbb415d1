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

-- Download speeds per cell as a histogram: 1 Mbps bins up to 100 Mbps, then
-- 30 logarithmic bins up to 10 Gbps.  Histograms add up, so a batch updates
-- a country-sized cell without rereading its millions of rows; p10 and p50
-- are read off the histogram (exact to the bin: 1 Mbps around the 40 Mbps
-- minimum).
CREATE FUNCTION hist_bin(d real) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN d < 100 THEN greatest(floor(d), 0)::integer
                ELSE 100 + least(29, floor(ln(d / 100.0) / ln(1.16591440118)))::integer END
$$;

-- Lower and upper edge of a bin, Mbps.
CREATE FUNCTION hist_edge(b integer) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN b <= 100 THEN b::float8 ELSE 100 * power(1.16591440118, b - 100) END
$$;

-- A dense 130-bin histogram from parallel arrays of bins and counts.
CREATE FUNCTION hist_from(bins integer[], counts bigint[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(coalesce(c.n, 0)::integer ORDER BY g.b)
      FROM generate_series(0, 129) AS g(b)
      LEFT JOIN (SELECT u.b, sum(u.n) AS n FROM unnest(bins, counts) AS u(b, n) GROUP BY u.b) c
        ON c.b = g.b
$$;

CREATE FUNCTION hist_add(a integer[], b integer[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i)
      FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i)
$$;

-- The p-quantile (0..1) of a histogram, interpolated inside its bin as
-- percentile_cont interpolates between values.
CREATE FUNCTION hist_pct(h integer[], p float8) RETURNS real
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    total bigint := 0;
    target float8;
    cum bigint := 0;
    i integer;
BEGIN
    SELECT sum(v) INTO total FROM unnest(h) v;
    IF total IS NULL OR total = 0 THEN
        RETURN NULL;
    END IF;
    target := p * total;
    FOR i IN 1 .. array_length(h, 1) LOOP
        IF h[i] > 0 AND cum + h[i] >= target THEN
            RETURN (hist_edge(i - 1)
                    + (hist_edge(i) - hist_edge(i - 1)) * greatest(target - cum, 0) / h[i])::real;
        END IF;
        cum := cum + h[i];
    END LOOP;
    RETURN hist_edge(array_length(h, 1))::real;
END $$;

ALTER TABLE coverage_cells ADD COLUMN hist integer[] NOT NULL DEFAULT array_fill(0, ARRAY[130]);

-- Coarse cells take p10/p50 from their histogram whenever it changes.
-- Level-16 cells hold few rows, and ingest sets their p10/p50 exactly from
-- the raw measurements afterwards (an UPDATE that leaves hist alone).
CREATE FUNCTION coverage_cells_derive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.hist IS DISTINCT FROM OLD.hist THEN
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

CREATE INDEX coverage_cells_lookup_idx ON coverage_cells (res, carrier_code, technology, cell_x, cell_y);
