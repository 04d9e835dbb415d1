-- 011_village_blocks.sql — village-level (level-16) cells kept in blocks.
--
-- A batch of 1 M tests spread over the country makes ~550 k new village
-- cells, and storing each as a row of coverage_cells (heap tuple + primary
-- key entry) cost 1.1-1.4 s: a fifth of the whole ingest.  The cells are a
-- sparse raster, so they are kept the way rasters are, in blocks: one row
-- per level-13 cell (the 8 x 8 level-16 cells inside it), carrier and
-- technology, holding its cells' figures as parallel arrays ordered by the
-- cell's place in the block (sub = (y & 7) * 8 + (x & 7)).  The same cells
-- took 0.2-0.3 s as 21,656 block rows, in a quarter of the space
-- (BENCHMARKS.md).  Readers ask coverage_cells_in() for the cells of a range
-- at any level; coverage_cells keeps the coarse levels (7, 10, 13).

CREATE TABLE coverage_blocks (
    block_x       integer NOT NULL,  -- the level-13 cell that holds the block
    block_y       integer NOT NULL,
    carrier_code  text NOT NULL,
    technology    text NOT NULL,
    sub           smallint[] NOT NULL, -- ascending, 0..63, one per cell with tests
    tests         integer[] NOT NULL,
    meeting_min   integer[] NOT NULL,
    p10_download  real[] NOT NULL,
    p50_download  real[] NOT NULL,
    last_measured timestamptz[] NOT NULL,
    PRIMARY KEY (block_x, block_y, carrier_code, technology),
    CHECK (cardinality(sub) BETWEEN 1 AND 64 AND cardinality(tests) = cardinality(sub)
           AND cardinality(meeting_min) = cardinality(sub)
           AND cardinality(p10_download) = cardinality(sub)
           AND cardinality(p50_download) = cardinality(sub)
           AND cardinality(last_measured) = cardinality(sub))
);

INSERT INTO coverage_blocks
SELECT cell_x >> 3, cell_y >> 3, carrier_code, technology,
       array_agg(s ORDER BY s), array_agg(tests ORDER BY s), array_agg(meeting_min ORDER BY s),
       array_agg(coalesce(p10_download, 0) ORDER BY s), array_agg(coalesce(p50_download, 0) ORDER BY s),
       array_agg(last_measured ORDER BY s)
  FROM (SELECT c.*, ((cell_y & 7) * 8 + (cell_x & 7))::smallint AS s
          FROM coverage_cells c WHERE res = 16) c
 GROUP BY 1, 2, 3, 4;
DELETE FROM coverage_cells WHERE res = 16;
ALTER TABLE coverage_cells DROP CONSTRAINT coverage_cells_hist_check;
ALTER TABLE coverage_cells ADD CONSTRAINT coverage_cells_coarse_check
    CHECK (res < 16 AND hist IS NOT NULL);

-- Every village cell, one row each (the blocks unpacked).  A condition on
-- block_x / block_y reaches the blocks' primary key.
CREATE VIEW coverage_cells16 AS
SELECT b.block_x, b.block_y, 16::smallint AS res,
       (b.block_x << 3) | (u.sub & 7) AS cell_x, (b.block_y << 3) | (u.sub >> 3) AS cell_y,
       b.carrier_code, b.technology, u.tests, u.meeting_min, u.p10_download, u.p50_download,
       u.last_measured, NULL::integer[] AS hist
  FROM coverage_blocks b
 CROSS JOIN LATERAL unnest(b.sub, b.tests, b.meeting_min, b.p10_download, b.p50_download,
                           b.last_measured)
       AS u(sub, tests, meeting_min, p10_download, p50_download, last_measured);

-- The cells of level p_res with cell_x in [x0, x1] and cell_y in [y0, y1],
-- of one carrier and technology or all (NULL): the rows of coverage_cells
-- for the coarse levels, the blocks' cells for level 16.  Plain SQL, so
-- PostgreSQL inlines it into the caller's query and the level's branch is
-- chosen when the statement is planned.
CREATE FUNCTION coverage_cells_in(p_res integer, x0 integer, x1 integer, y0 integer, y1 integer,
                                  p_carrier text, p_tech text)
RETURNS TABLE (res smallint, cell_x integer, cell_y integer, carrier_code text, technology text,
               tests integer, meeting_min integer, p10_download real, p50_download real,
               last_measured timestamptz, hist integer[])
LANGUAGE sql STABLE AS $$
    SELECT c.res, c.cell_x, c.cell_y, c.carrier_code, c.technology, c.tests, c.meeting_min,
           c.p10_download, c.p50_download, c.last_measured, c.hist
      FROM coverage_cells c
     WHERE p_res < 16 AND c.res = p_res AND c.cell_x BETWEEN x0 AND x1
       AND c.cell_y BETWEEN y0 AND y1
       AND (p_carrier IS NULL OR c.carrier_code = p_carrier)
       AND (p_tech IS NULL OR c.technology = p_tech)
    UNION ALL
    SELECT v.res, v.cell_x, v.cell_y, v.carrier_code, v.technology, v.tests, v.meeting_min,
           v.p10_download, v.p50_download, v.last_measured, v.hist
      FROM coverage_cells16 v
     WHERE p_res = 16 AND v.block_x BETWEEN x0 >> 3 AND x1 >> 3
       AND v.block_y BETWEEN y0 >> 3 AND y1 >> 3
       AND v.cell_x BETWEEN x0 AND x1 AND v.cell_y BETWEEN y0 AND y1
       AND (p_carrier IS NULL OR v.carrier_code = p_carrier)
       AND (p_tech IS NULL OR v.technology = p_tech)
$$;

-- Recomputes the village cells listed in the temporary table
-- ingest_touched16 (block_x, block_y, carrier_code, technology, sub) from
-- their raw rows (every month) and writes them into their blocks: a block's
-- other cells stay as they were.  Ingest calls it for the blocks a batch
-- adds to that existed before it, and for every block when the batch met
-- rows stored before (then the batch's own figures are not all new).
CREATE FUNCTION coverage_blocks_recompute() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    INSERT INTO coverage_blocks AS b
    SELECT k.block_x, k.block_y, k.carrier_code, k.technology,
           array_agg(x.sub ORDER BY x.sub), array_agg(x.tests ORDER BY x.sub),
           array_agg(x.meeting_min ORDER BY x.sub), array_agg(x.p10 ORDER BY x.sub),
           array_agg(x.p50 ORDER BY x.sub), array_agg(x.last_measured ORDER BY x.sub)
      FROM (SELECT DISTINCT block_x, block_y, carrier_code, technology FROM ingest_touched16) k
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
                     AND m.carrier_code = t.carrier_code AND m.technology = t.technology) e
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

GRANT SELECT ON coverage_blocks, coverage_cells16 TO lomsong_app;
GRANT INSERT, UPDATE, DELETE ON coverage_blocks TO lomsong_app;
