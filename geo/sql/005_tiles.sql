-- 005_tiles.sql — what the vector tiles (maps/tiles.c) need ready-made.
--
-- Province boundaries are drawn at every zoom.  Simplifying 34 polygons of
-- up to 12,000 vertices on each request costs tens of milliseconds, so each
-- unit is kept here already in Web Mercator (EPSG:3857) and already
-- generalised for each zoom 0..10: tolerance one tile-extent unit at that
-- zoom (a sixteenth of a pixel), and islands smaller than 4 x 4 units
-- dropped.  Zoom 11 holds the full geometry and serves 11..16, where a tile
-- is small enough to clip the full boundary quickly.  The label point of
-- each unit (ST_PointOnSurface, in 3857) is kept beside them.
--
-- Rows follow their unit (ON DELETE CASCADE) and are made by
-- unit_tiles_refresh(), which `lomsong units load` calls in the same
-- transaction as the load; it computes only the units that lack rows.

CREATE TABLE unit_tiles (
    unit_id bigint NOT NULL REFERENCES admin_units (id) ON DELETE CASCADE,
    zoom    smallint NOT NULL CHECK (zoom BETWEEN 0 AND 11), -- serves this zoom (11: 11 and up)
    geom    geometry(MultiPolygon, 3857) NOT NULL,
    PRIMARY KEY (zoom, unit_id)
);

CREATE TABLE unit_labels (
    unit_id bigint PRIMARY KEY REFERENCES admin_units (id) ON DELETE CASCADE,
    geom    geometry(Point, 3857) NOT NULL
);

-- Makes the tile geometries of every province unit in force today or later
-- that has none yet; returns how many units it did.
CREATE FUNCTION unit_tiles_refresh() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    SELECT array_agg(u.id) INTO ids FROM admin_units u
     WHERE u.level = 'province' AND u.geom IS NOT NULL AND NOT ST_IsEmpty(u.geom)
       AND (u.valid_to IS NULL OR u.valid_to > current_date)
       AND NOT EXISTS (SELECT 1 FROM unit_labels l WHERE l.unit_id = u.id);
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO unit_labels (unit_id, geom)
    SELECT u.id, ST_Transform(ST_PointOnSurface(u.geom), 3857) FROM admin_units u
     WHERE u.id = ANY (ids);
    -- tol: metres per extent unit (4096 per tile side) at zoom z
    INSERT INTO unit_tiles (unit_id, zoom, geom)
    SELECT s.id, s.z, s.geom FROM (
        SELECT u.id, z, (SELECT ST_Multi(ST_Collect(d.geom))
                           FROM ST_Dump(ST_CollectionExtract(ST_MakeValid(
                                ST_SimplifyPreserveTopology(g.m, k.tol)), 3)) d
                          WHERE ST_Area(d.geom) >= 16 * k.tol * k.tol) AS geom
          FROM admin_units u
         CROSS JOIN LATERAL (SELECT ST_Transform(u.geom, 3857) AS m) g
         CROSS JOIN generate_series(0, 10) z
         CROSS JOIN LATERAL (SELECT 40075016.685578488 / 4096 / 2 ^ z AS tol) k
         WHERE u.id = ANY (ids)) s
     WHERE s.geom IS NOT NULL;
    INSERT INTO unit_tiles (unit_id, zoom, geom)
    SELECT u.id, 11, ST_Multi(ST_Transform(u.geom, 3857)) FROM admin_units u
     WHERE u.id = ANY (ids);
    RETURN cardinality(ids);
END $$;

SELECT unit_tiles_refresh();

GRANT SELECT ON unit_tiles, unit_labels TO lomsong_app;
