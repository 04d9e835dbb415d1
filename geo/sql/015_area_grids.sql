-- 015_area_grids.sql — the province grid kept beside the provinces.
--
-- Every ingest checks each row against a grid of the provinces in force
-- (geo/area.c): built with GDAL from their boundaries, 0.1-0.2 s of CPU and
-- a wait at the start of every `lomsong ingest` (the server kept it in
-- memory, a CLI run built it again).  It is derived data of admin_units,
-- like their generalised boundaries: `units load` stores it here, and a
-- process that had to build it (the provinces changed some other way)
-- stores it after its work committed.  A grid is found by the version of
-- the provinces it was made from, so a changed province is never answered
-- with an old grid; only the current version's row is kept.

-- The version of the provinces in force: any insert, update or delete
-- changes the count, the largest id or the sum of the rows' xmin (the
-- transaction that wrote each).  Summing the boundaries' points instead
-- read every boundary (45 ms a call).
CREATE FUNCTION area_version() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT count(*) || '/' || coalesce(max(id), 0) || '/' || coalesce(sum(xmin::text::bigint), 0)
      FROM admin_units WHERE level = 'province' AND valid_to IS NULL
$$;

CREATE TABLE area_grids (
    version text PRIMARY KEY,
    made_at timestamptz NOT NULL DEFAULT now(),
    grid    bytea NOT NULL -- geo/area.c's format (run-length coded), checked when read
);
-- Run-length coded already: no compression attempt on store or read.
ALTER TABLE area_grids ALTER COLUMN grid SET STORAGE EXTERNAL;

GRANT SELECT, INSERT, UPDATE, DELETE ON area_grids TO lomsong_app;
GRANT EXECUTE ON FUNCTION area_version() TO lomsong_app;
