-- 006_reports.sql — one way to file a dead-zone report, for every source
-- (POST /v1/reports and file imports call the same function), households,
-- and what the ministry's merge and split of points need.

-- A locality file may count households ("Số hộ") rather than people: the
-- figure is kept as given; people_affected is derived from it when the row
-- gives no people count (see ingest/reports.c).
ALTER TABLE reports ADD COLUMN households integer CHECK (households BETWEEN 0 AND 2000000);

-- Files a report that the caller has validated (position inside its area,
-- known technology and symptom): joins the nearest open point of the same
-- technology within p_radius metres, else starts a new point; writes the
-- report and the point's event.  Runs with the caller's rights, so
-- row-level security applies as to any statement of the request.
-- new_report is NULL when p_carriers names a carrier that does not exist
-- (then nothing was written).
--
-- Reports near each other are serialised by a lock on their level-10 tile
-- (~38 km), so that two filed at once cannot both start a new point.
--
-- The nearby point is found through the points' level-16 cells
-- (dz_points.cell16, the stored column 007_tiles_points.sql adds; a
-- PL/pgSQL body is resolved when first run, after every migration):
-- under row-level security only leakproof conditions such as an integer
-- comparison may use an index ahead of the policy, and the bounding-box
-- operator && is not one.  Searched by distance (<->) instead, the index
-- scan ran through every point when none was near: 19 ms a report at
-- 1,200 points, growing with them.
CREATE FUNCTION report_file(p_account bigint, p_province text, p_commune text, p_lon float8,
                            p_lat float8, p_tech text, p_carriers text[], p_symptom text,
                            p_place text, p_people integer, p_households integer, p_note text,
                            p_source text, p_client_ref text, p_batch bigint, p_row integer,
                            p_radius float8,
                            OUT new_report bigint, OUT dz_point bigint, OUT joined boolean)
LANGUAGE plpgsql AS $$
DECLARE
    g geometry := ST_SetSRID(ST_MakePoint(p_lon, p_lat), 4326);
    c16 bigint := cell16_of(p_lon, p_lat);
    k integer := greatest(1, ceil(p_radius / 500.0))::int; -- cells are >= 500 m wide in Vietnam
    cells bigint[];
BEGIN
    IF (SELECT count(*) FROM carriers WHERE code = ANY (p_carriers))
       <> cardinality(p_carriers) THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(7262, (((c16 >> 22) << 10) | ((c16 & 65535) >> 6))::int);
    SELECT array_agg((((c16 >> 16) + dx) << 16) | ((c16 & 65535) + dy)) INTO cells
      FROM generate_series(-k, k) dx, generate_series(-k, k) dy;
    SELECT p.id INTO dz_point FROM dz_points p
     WHERE p.cell16 = ANY (cells)
       AND p.technology = p_tech AND p.status NOT IN ('rejected', 'merged', 'verified')
       AND ST_DWithin(p.geom::geography, g::geography, p_radius)
     ORDER BY ST_Distance(p.geom, g), p.id LIMIT 1;
    joined := dz_point IS NOT NULL;
    IF joined THEN
        UPDATE dz_points SET report_count = report_count + 1,
               people_affected = people_affected + coalesce(p_people, 0), updated_at = now()
         WHERE id = dz_point;
    ELSE
        INSERT INTO dz_points (geom, province_code, commune_code, technology, report_count,
                               people_affected)
        VALUES (g, p_province, p_commune, p_tech, 1, coalesce(p_people, 0))
        RETURNING id INTO dz_point;
    END IF;
    INSERT INTO reports (point_id, account_id, province_code, commune_code, geom, technology,
                         carriers, symptom, place, people_affected, households, note, source,
                         client_ref, source_batch, source_row)
    VALUES (dz_point, p_account, p_province, p_commune, g, p_tech, p_carriers, p_symptom,
            p_place, p_people, p_households, p_note, p_source, p_client_ref, p_batch, p_row)
    RETURNING id INTO new_report;
    INSERT INTO events (point_id, province_code, commune_code, at, account_id, actor_role, kind,
                        from_status, to_status, note, data)
    SELECT p.id, p.province_code, p.commune_code, now(), p_account,
           coalesce(ctx_role(), 'locality'), 'report',
           CASE WHEN joined THEN p.status END, p.status,
           CASE WHEN joined THEN 'joined the point' ELSE 'new dead zone' END,
           jsonb_strip_nulls(jsonb_build_object('report_id', new_report, 'batch', p_batch,
                                                'row', p_row))
      FROM dz_points p WHERE p.id = dz_point;
END $$;
REVOKE ALL ON FUNCTION report_file(bigint, text, text, float8, float8, text, text[], text, text,
                                   integer, integer, text, text, text, bigint, integer, float8)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION report_file(bigint, text, text, float8, float8, text, text[], text,
                                      text, integer, integer, text, text, text, bigint, integer,
                                      float8) TO lomsong_app;

-- A point's report_count and people_affected from the reports it holds now
-- (after a merge or a split moved some).
CREATE FUNCTION point_recount(p_point bigint) RETURNS void LANGUAGE sql AS $$
    UPDATE dz_points p SET
           report_count = (SELECT count(*) FROM reports r
                            WHERE r.point_id = p.id AND r.withdrawn_at IS NULL),
           people_affected = (SELECT coalesce(sum(r.people_affected), 0) FROM reports r
                               WHERE r.point_id = p.id AND r.withdrawn_at IS NULL),
           updated_at = now()
     WHERE p.id = p_point
$$;
REVOKE ALL ON FUNCTION point_recount(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION point_recount(bigint) TO lomsong_app;

CREATE INDEX reports_batch_idx ON reports (source_batch) WHERE source_batch IS NOT NULL;
