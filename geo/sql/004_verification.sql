-- 004_verification.sql — a fix counts only when measurements prove it.
--
-- When a measurement batch commits, every point near its new rows is
-- checked (rule from DESIGN.md, parameters from the server's settings):
--   fixed -> verified   when at least min_tests tests within radius_m, taken
--                       after the fix, on at least min_days days, of the
--                       point's technology (and its assigned carriers, if
--                       any), with at least min_share meeting the minimum;
--   verified -> reopened when tests after the verification, by the same
--                       count, fail that share;
--   reported/triaged -> disputed flag when recent tests there already meet
--                       the rule (the ministry decides).
-- Every change writes a system event holding the evidence.

-- The level-16 cell of a point, as ingest computes it (geo/tile.c).
CREATE FUNCTION cell16_of(lon float8, lat float8) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (least(65535, greatest(0, floor((lon + 180.0) / 360.0 * 65536)))::bigint << 16)
         | least(65535, greatest(0, floor((1.0 - ln(tan(radians(lat)) + 1.0 / cos(radians(lat)))
                                                / pi()) / 2.0 * 65536)))::bigint
$$;

-- The evidence for a point: tests of its technology (and assigned carriers)
-- within radius_m taken after `since`.  The cells around the point are found
-- by arithmetic and the measurements through their cell index; the exact
-- distance is checked after.
CREATE FUNCTION point_evidence(p_point bigint, since timestamptz, radius_m float8,
                               OUT tests integer, OUT days integer, OUT meeting integer)
LANGUAGE sql STABLE AS $$
    WITH p AS (SELECT id, geom, technology, ST_X(geom) AS lon, ST_Y(geom) AS lat
                 FROM dz_points WHERE id = p_point),
         k AS (SELECT greatest(1, ceil(radius_m / (611.5 * cos(radians(p.lat)))))::int AS k,
                      cell16_of(p.lon, p.lat) AS c FROM p),
         cells AS (SELECT (((k.c >> 16) + dx) << 16) | ((k.c & 65535) + dy) AS cell
                     FROM k, generate_series(-k.k, k.k) dx, generate_series(-k.k, k.k) dy),
         carriers AS (SELECT array_agg(carrier_code) AS codes FROM assignments
                       WHERE point_id = p_point AND status <> 'withdrawn')
    SELECT count(*)::int,
           count(DISTINCT (m.measured_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)::int,
           count(*) FILTER (WHERE m.meets_min)::int
      FROM p, carriers, cells, measurements m
     WHERE m.cell16 = cells.cell AND m.measured_at > since
       AND m.technology = p.technology
       AND (carriers.codes IS NULL OR m.carrier_code = ANY (carriers.codes))
       AND ST_DWithin(m.geom::geography, p.geom::geography, radius_m)
$$;

CREATE FUNCTION verify_points(p_batch bigint, min_tests integer, min_days integer,
                              radius_m float8, min_share float8,
                              OUT verified integer, OUT reopened integer, OUT disputed integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    caller text := coalesce(current_setting('lomsong.role', true), '');
    pt record;
    ev record;
    k integer := greatest(1, ceil(radius_m / 560.0))::int; -- cells are >= 560 m wide in Vietnam
BEGIN
    verified := 0;
    reopened := 0;
    disputed := 0;
    PERFORM set_config('lomsong.role', 'system', true);
    -- Points whose neighbouring cells received tests in this batch: each
    -- open point's cells hash-joined against the batch's cells (cost grows
    -- with the points and the batch, not their product).
    FOR pt IN
        WITH bc AS (SELECT DISTINCT cell16 FROM measurements WHERE batch_id = p_batch),
             op AS (SELECT id, cell16_of(ST_X(geom), ST_Y(geom)) AS c FROM dz_points
                     WHERE status IN ('fixed', 'verified', 'reported', 'triaged')),
             pc AS (SELECT op.id, (((op.c >> 16) + dx) << 16) | ((op.c & 65535) + dy) AS cell
                      FROM op, generate_series(-k, k) dx, generate_series(-k, k) dy)
        SELECT p.id, p.status, p.fixed_at, p.verified_at, p.first_reported, p.disputed,
               p.province_code, p.commune_code
          FROM dz_points p
         WHERE p.id IN (SELECT pc.id FROM pc JOIN bc ON bc.cell16 = pc.cell)
    LOOP
        IF pt.status = 'fixed' AND pt.fixed_at IS NOT NULL THEN
            ev := point_evidence(pt.id, pt.fixed_at, radius_m);
            IF ev.tests >= min_tests AND ev.days >= min_days
               AND ev.meeting >= min_share * ev.tests THEN
                UPDATE dz_points SET status = 'verified', verified_at = now(), updated_at = now()
                 WHERE id = pt.id;
                UPDATE assignments SET status = 'verified', updated_at = now()
                 WHERE point_id = pt.id AND status = 'fixed';
                INSERT INTO events (point_id, province_code, commune_code, at, actor_role, kind,
                                    from_status, to_status, note, data)
                VALUES (pt.id, pt.province_code, pt.commune_code, now(), 'system', 'transition',
                        'fixed', 'verified', 'measurements after the fix meet the minimum',
                        jsonb_build_object('batch', p_batch, 'tests', ev.tests, 'days', ev.days,
                                           'meeting_min', ev.meeting));
                verified := verified + 1;
            END IF;
        ELSIF pt.status = 'verified' AND pt.verified_at IS NOT NULL THEN
            ev := point_evidence(pt.id, pt.verified_at, radius_m);
            IF ev.tests >= min_tests AND ev.meeting < min_share * ev.tests THEN
                UPDATE dz_points SET status = 'reopened', updated_at = now() WHERE id = pt.id;
                INSERT INTO events (point_id, province_code, commune_code, at, actor_role, kind,
                                    from_status, to_status, note, data)
                VALUES (pt.id, pt.province_code, pt.commune_code, now(), 'system', 'transition',
                        'verified', 'reopened', 'measurements after the verification fail',
                        jsonb_build_object('batch', p_batch, 'tests', ev.tests, 'days', ev.days,
                                           'meeting_min', ev.meeting));
                reopened := reopened + 1;
            END IF;
        ELSIF pt.status IN ('reported', 'triaged') AND NOT pt.disputed THEN
            ev := point_evidence(pt.id, pt.first_reported - interval '90 days', radius_m);
            IF ev.tests >= min_tests AND ev.days >= min_days
               AND ev.meeting >= min_share * ev.tests THEN
                UPDATE dz_points SET disputed = true, updated_at = now() WHERE id = pt.id;
                INSERT INTO events (point_id, province_code, commune_code, at, actor_role, kind,
                                    from_status, to_status, note, data)
                VALUES (pt.id, pt.province_code, pt.commune_code, now(), 'system', 'dispute',
                        pt.status, pt.status, 'measurements there already meet the minimum',
                        jsonb_build_object('batch', p_batch, 'tests', ev.tests, 'days', ev.days,
                                           'meeting_min', ev.meeting));
                disputed := disputed + 1;
            END IF;
        END IF;
    END LOOP;
    PERFORM set_config('lomsong.role', caller, true);
END $$;
REVOKE ALL ON FUNCTION verify_points(bigint, integer, integer, float8, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION verify_points(bigint, integer, integer, float8, float8) TO lomsong_app;
GRANT EXECUTE ON FUNCTION point_evidence(bigint, timestamptz, float8) TO lomsong_app;
