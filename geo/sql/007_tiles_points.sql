-- 007_tiles_points.sql — dead-zone points for the map tiles, fast under
-- row-level security.
--
-- 1. Zoom 9 and up: PostgreSQL runs a query's own conditions ahead of a
-- row-level-security policy, and uses them in an index, only when they are
-- leakproof.  The bounding-box operator && is not: under the policy of
-- dz_points a tile could not use the GiST index, and every point the policy
-- admits was read and tested for every tile.  Integer comparisons are
-- leakproof.  Each point keeps its level-16 cell (x << 16 | y, as
-- measurements do, computed by cell16_of()), and a tile takes its points
-- as one btree range per column of cells, before the policy is evaluated.
--
-- 2. Below zoom 9 the points are clustered, and a tile over Vietnam holds
-- nearly all of them: counting 100,000 points under the policy costs
-- hundreds of milliseconds.  point_grid keeps them counted per level-11
-- cell (~20 km, the cluster grid of zoom 8; coarser zooms add cells up) and
-- per what decides who sees a point under the policy of dz_points:
--   'area'    (province, commune) of the point: the ministry sees all of
--             these rows, a locality those of its area;
--   'carrier' each carrier with an assignment of the point (any status):
--             that carrier's rows;
--   'utility' area of an assignment blocked for no_power: a utility's rows
--             in its area.
-- Its own policy lets each role see exactly the rows for the points the
-- policy of dz_points (with that of assignments) lets it see.  A change to
-- either policy must change this one too (test_maps_tiles checks that the
-- clusters count what GET /v1/points lists, role by role).
--
-- The counts follow every change: statement triggers on dz_points and
-- assignments note the cells touched (in a transaction-local setting), and
-- at commit a deferred trigger recounts those cells from the committed rows
-- and the transaction's own, after taking an advisory lock per ~600 km
-- region, so that two transactions touching one cell recount it one after
-- the other (the second one's new snapshot sees the first one's rows).
-- Taken at commit, after every statement, that lock closes no cycle with
-- the row locks.

-- The level-11 cell (x << 11 | y) of a level-16 cell.
CREATE FUNCTION point_grid_cell(c bigint) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ((c >> 21) << 11) | ((c & 65535) >> 5) $$;

-- Stored, not computed in the query: a condition on an expression of a
-- column is not leakproof (>> and & are not), a comparison of the column is.
ALTER TABLE dz_points
    ADD COLUMN cell16 bigint GENERATED ALWAYS AS (cell16_of(ST_X(geom), ST_Y(geom))) STORED,
    ADD COLUMN grid11 bigint
        GENERATED ALWAYS AS (point_grid_cell(cell16_of(ST_X(geom), ST_Y(geom)))) STORED;
CREATE INDEX dz_points_cell_idx ON dz_points (cell16);
CREATE INDEX dz_points_grid_idx ON dz_points (grid11);

CREATE TABLE point_grid (
    g             bigint NOT NULL,          -- level-11 cell, x << 11 | y
    scope         text NOT NULL CHECK (scope IN ('area', 'carrier', 'utility')),
    province_code text,                     -- area, utility
    commune_code  text,                     -- area, utility
    carrier_code  text,                     -- carrier
    n             integer NOT NULL,         -- points (merged ones are not counted)
    reports       bigint NOT NULL,
    people        bigint NOT NULL,
    sum_x         bigint NOT NULL,          -- sums of the points' level-16 x and y
    sum_y         bigint NOT NULL,
    open_due      date,                     -- earliest due date of a point still open
    one_id        bigint                    -- the point, when n = 1
);
CREATE INDEX point_grid_g_idx ON point_grid (g);
ALTER TABLE point_grid ENABLE ROW LEVEL SECURITY;
ALTER TABLE point_grid FORCE ROW LEVEL SECURITY;
CREATE POLICY point_grid_read ON point_grid FOR SELECT USING (
    (scope = 'area' AND (ctx_role() IN ('ministry', 'system')
                         OR (ctx_role() = 'locality' AND ctx_in_area(province_code, commune_code))))
    OR (scope = 'carrier' AND ctx_role() = 'carrier' AND carrier_code = ctx_carrier())
    OR (scope = 'utility' AND ctx_role() = 'utility' AND ctx_in_area(province_code, commune_code)));
CREATE POLICY point_grid_write ON point_grid FOR ALL USING (ctx_role() = 'system')
    WITH CHECK (ctx_role() = 'system');

-- Recounts the level-11 cells gs from dz_points and assignments.
CREATE FUNCTION point_grid_refresh(gs bigint[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    caller text := coalesce(current_setting('lomsong.role', true), '');
    region integer;
BEGIN
    IF gs IS NULL OR cardinality(gs) = 0 THEN
        RETURN;
    END IF;
    -- level-5 regions (x11 >> 6, y11 >> 6), in order
    FOR region IN SELECT DISTINCT (((g >> 17) << 5) | ((g & 2047) >> 6))::integer
                    FROM unnest(gs) g ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(7264, region);
    END LOOP;
    PERFORM set_config('lomsong.role', 'system', true);
    DELETE FROM point_grid WHERE g = ANY (gs);
    WITH p AS (SELECT d.grid11 AS g, d.id, d.province_code, d.commune_code,
                      d.report_count, d.people_affected, d.cell16 >> 16 AS x,
                      d.cell16 & 65535 AS y,
                      CASE WHEN d.status NOT IN ('fixed', 'verified', 'rejected', 'merged')
                           THEN d.due_date END AS due
                 FROM dz_points d
                WHERE d.grid11 = ANY (gs) AND d.status <> 'merged'),
         c AS (SELECT DISTINCT point_id, carrier_code FROM assignments
                WHERE point_id IN (SELECT id FROM p)),
         u AS (SELECT DISTINCT point_id, province_code, commune_code FROM assignments
                WHERE blocked_reason = 'no_power' AND point_id IN (SELECT id FROM p))
    INSERT INTO point_grid (g, scope, province_code, commune_code, carrier_code, n, reports,
                            people, sum_x, sum_y, open_due, one_id)
    SELECT p.g, 'area', p.province_code, p.commune_code, NULL, count(*), sum(p.report_count),
           sum(p.people_affected), sum(p.x), sum(p.y), min(p.due),
           CASE WHEN count(*) = 1 THEN min(p.id) END
      FROM p GROUP BY p.g, p.province_code, p.commune_code
    UNION ALL
    SELECT p.g, 'carrier', NULL, NULL, c.carrier_code, count(*), sum(p.report_count),
           sum(p.people_affected), sum(p.x), sum(p.y), min(p.due),
           CASE WHEN count(*) = 1 THEN min(p.id) END
      FROM p JOIN c ON c.point_id = p.id GROUP BY p.g, c.carrier_code
    UNION ALL
    SELECT p.g, 'utility', u.province_code, u.commune_code, NULL, count(*), sum(p.report_count),
           sum(p.people_affected), sum(p.x), sum(p.y), min(p.due),
           CASE WHEN count(*) = 1 THEN min(p.id) END
      FROM p JOIN u ON u.point_id = p.id GROUP BY p.g, u.province_code, u.commune_code;
    PERFORM set_config('lomsong.role', caller, true);
END $$;

-- Notes the cells a statement touched (transition tables: one call per
-- statement however many rows).
CREATE FUNCTION point_grid_note() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    caller text := coalesce(current_setting('lomsong.role', true), '');
    noted text;
BEGIN
    IF TG_TABLE_NAME = 'dz_points' THEN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            SELECT string_agg(DISTINCT grid11::text, ',') INTO noted FROM new_rows;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            SELECT concat_ws(',', noted, string_agg(DISTINCT grid11::text, ','))
              INTO noted FROM old_rows;
        END IF;
    ELSE
        -- an assignment counts in the cell of its point, read as the system
        PERFORM set_config('lomsong.role', 'system', true);
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            SELECT string_agg(DISTINCT d.grid11::text, ',') INTO noted
              FROM dz_points d WHERE d.id IN (SELECT point_id FROM new_rows);
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            SELECT concat_ws(',', noted, string_agg(DISTINCT d.grid11::text, ','))
              INTO noted FROM dz_points d WHERE d.id IN (SELECT point_id FROM old_rows);
        END IF;
        PERFORM set_config('lomsong.role', caller, true);
    END IF;
    IF noted <> '' THEN
        PERFORM set_config('lomsong.grid_pending',
                           concat_ws(',', nullif(current_setting('lomsong.grid_pending', true), ''),
                                     noted), true);
    END IF;
    RETURN NULL;
END $$;

-- At commit: recounts the cells noted in this transaction, once.
CREATE FUNCTION point_grid_flush() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    pending text := nullif(current_setting('lomsong.grid_pending', true), '');
BEGIN
    IF pending IS NOT NULL THEN
        PERFORM set_config('lomsong.grid_pending', '', true);
        PERFORM point_grid_refresh(ARRAY(SELECT DISTINCT unnest(string_to_array(pending, ','))::bigint));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER dz_points_grid_ins AFTER INSERT ON dz_points REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION point_grid_note();
CREATE TRIGGER dz_points_grid_upd AFTER UPDATE ON dz_points
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION point_grid_note();
CREATE TRIGGER dz_points_grid_del AFTER DELETE ON dz_points REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION point_grid_note();
CREATE TRIGGER assignments_grid_ins AFTER INSERT ON assignments REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION point_grid_note();
CREATE TRIGGER assignments_grid_upd AFTER UPDATE ON assignments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION point_grid_note();
CREATE TRIGGER assignments_grid_del AFTER DELETE ON assignments REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION point_grid_note();
CREATE CONSTRAINT TRIGGER dz_points_grid_flush AFTER INSERT OR UPDATE OR DELETE ON dz_points
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION point_grid_flush();
CREATE CONSTRAINT TRIGGER assignments_grid_flush AFTER INSERT OR UPDATE OR DELETE ON assignments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION point_grid_flush();

SELECT set_config('lomsong.role', 'system', true);
SELECT point_grid_refresh(ARRAY(SELECT DISTINCT grid11 FROM dz_points));
SELECT set_config('lomsong.role', '', true);

REVOKE ALL ON FUNCTION point_grid_refresh(bigint[]) FROM PUBLIC;
GRANT SELECT ON point_grid TO lomsong_app;
