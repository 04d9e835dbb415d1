-- 001_core.sql — the whole domain of DESIGN.md: versioned admin units,
-- carriers, accounts and tokens, reports, dead-zone points, assignments,
-- append-only events, measurements (monthly partitions), ingest batches and
-- coverage cells; the application role and its row-level security.
--
-- Runs as the owner role (lomsong_owner in the local cluster), inside one
-- transaction opened by `lomsong migrate`.  The extensions and the role
-- lomsong_app are made beforehand by a superuser (tools/db.sh bootstrap),
-- because neither may be made by an ordinary owner.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis') THEN
        RAISE EXCEPTION 'extension postgis is not installed in this database: run CREATE EXTENSION postgis as a superuser';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gist') THEN
        RAISE EXCEPTION 'extension btree_gist is not installed in this database: run CREATE EXTENSION btree_gist as a superuser';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lomsong_app') THEN
        RAISE EXCEPTION 'role lomsong_app does not exist: CREATE ROLE lomsong_app LOGIN as a superuser';
    END IF;
END $$;

-- ---------------------------------------------------------------- context
-- The server sets these per request with set_config(..., true) (SET LOCAL)
-- inside the request's transaction.  Unset means "no rights": every policy
-- below is false for a NULL role.
CREATE FUNCTION ctx_role() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('lomsong.role', true), '') $$;
CREATE FUNCTION ctx_account() RETURNS bigint LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('lomsong.account', true), '')::bigint $$;
CREATE FUNCTION ctx_province() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('lomsong.province', true), '') $$;
CREATE FUNCTION ctx_commune() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('lomsong.commune', true), '') $$;
CREATE FUNCTION ctx_carrier() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('lomsong.carrier', true), '') $$;

-- True when a row in (province, commune) lies in the caller's area.  A
-- province-bound account sees its province; a commune-bound one its commune.
-- A caller with no area (utility bound nationwide) sees everything.
CREATE FUNCTION ctx_in_area(p_province text, p_commune text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN ctx_commune() IS NOT NULL THEN p_commune IS NOT DISTINCT FROM ctx_commune()
        WHEN ctx_province() IS NOT NULL THEN p_province IS NOT DISTINCT FROM ctx_province()
        ELSE true
    END
$$;

-- ------------------------------------------------------------ admin units
CREATE TABLE admin_units (
    id            bigserial PRIMARY KEY,
    level         text NOT NULL CHECK (level IN ('province', 'commune')),
    code          text NOT NULL CHECK (code ~ '^[0-9]{2,5}$'),
    name          text NOT NULL,
    province_code text,                       -- a commune's province (same validity)
    valid_from    date NOT NULL,
    valid_to      date,                       -- exclusive; NULL = in force
    geom          geometry(MultiPolygon, 4326),
    geom_simple   geometry(MultiPolygon, 4326), -- ~100 m generalisation for lists and maps
    loaded_from   text,
    CHECK (valid_to IS NULL OR valid_to > valid_from),
    EXCLUDE USING gist (level WITH =, code WITH =, daterange(valid_from, valid_to) WITH &&)
);
CREATE INDEX admin_units_geom_idx ON admin_units USING gist (geom);
CREATE INDEX admin_units_code_idx ON admin_units (level, code);

-- Old unit -> unit that took it over (2025 merger: 63 provinces -> 34).
CREATE TABLE unit_successors (
    level     text NOT NULL CHECK (level IN ('province', 'commune')),
    old_code  text NOT NULL,
    new_code  text NOT NULL,
    kind      text NOT NULL CHECK (kind IN ('full', 'partial')),
    effective date NOT NULL,
    PRIMARY KEY (level, old_code, new_code, effective)
);

-- The code of the unit of `lvl` containing `p` on day `d`.  Boundaries are
-- generalised by a few hundred metres, so a point just outside every polygon
-- (a coastal village, an island pier) takes the nearest unit within 2 km.
CREATE FUNCTION unit_at(p geometry, d date DEFAULT current_date, lvl text DEFAULT 'province')
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT code FROM (
        (SELECT code, 0::float8 AS dist FROM admin_units
          WHERE level = lvl AND geom IS NOT NULL
            AND valid_from <= d AND (valid_to IS NULL OR valid_to > d)
            AND ST_Intersects(geom, p)
          ORDER BY code LIMIT 1)
        UNION ALL
        (SELECT code, ST_Distance(geom::geography, p::geography) AS dist FROM admin_units
          WHERE level = lvl AND geom IS NOT NULL
            AND valid_from <= d AND (valid_to IS NULL OR valid_to > d)
            AND ST_DWithin(geom, p, 0.03)
            AND ST_DWithin(geom::geography, p::geography, 2000)
          ORDER BY geom <-> p LIMIT 1)
    ) c ORDER BY dist LIMIT 1
$$;

-- Today's code for a unit code, following successors when the code is no
-- longer in force.  NULL when the code never existed.
CREATE FUNCTION unit_current(p_code text, lvl text DEFAULT 'province')
RETURNS text LANGUAGE sql STABLE AS $$
    WITH RECURSIVE chain(code, depth) AS (
        SELECT p_code, 0
        UNION
        SELECT s.new_code, c.depth + 1 FROM chain c
          JOIN unit_successors s ON s.level = lvl AND s.old_code = c.code
         WHERE c.depth < 8
    )
    SELECT c.code FROM chain c
      JOIN admin_units u ON u.level = lvl AND u.code = c.code AND u.valid_to IS NULL
     ORDER BY c.depth,
              (SELECT CASE s.kind WHEN 'full' THEN 0 ELSE 1 END FROM unit_successors s
                WHERE s.level = lvl AND s.old_code = p_code AND s.new_code = c.code LIMIT 1)
     LIMIT 1
$$;

-- ---------------------------------------------------------------- carriers
CREATE TABLE carriers (
    code    text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{2,32}$'),
    name    text NOT NULL,
    mcc_mnc text[] NOT NULL DEFAULT '{}',
    kind    text NOT NULL DEFAULT 'mno' CHECK (kind IN ('mno', 'mvno'))
);

-- --------------------------------------------------------- accounts, tokens
CREATE TABLE accounts (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('ministry', 'locality', 'carrier', 'utility', 'public')),
    unit_level   text CHECK (unit_level IN ('province', 'commune')),
    unit_code    text,
    carrier_code text REFERENCES carriers (code),
    created_at   timestamptz NOT NULL DEFAULT now(),
    disabled_at  timestamptz,
    CHECK ((unit_code IS NULL) = (unit_level IS NULL)),
    CHECK (role <> 'locality' OR unit_code IS NOT NULL),
    CHECK ((role = 'carrier') = (carrier_code IS NOT NULL)),
    CHECK (role IN ('locality', 'utility') OR unit_code IS NULL)
);

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (id),
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32), -- SHA-256 of the token
    prefix       text NOT NULL,               -- the first characters, to recognise it in lists
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- The only way the application role reads credentials: by the hash of a
-- presented token.  Returns no row for an unknown, revoked or expired token
-- or a disabled account.
CREATE FUNCTION auth_token(p_hash bytea)
RETURNS TABLE (account_id bigint, role text, name text, unit_level text, unit_code text,
               province_code text, carrier_code text, token_id bigint, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    t api_tokens%ROWTYPE;
BEGIN
    SELECT k.* INTO t FROM api_tokens k
     WHERE k.token_hash = p_hash AND k.revoked_at IS NULL
       AND (k.expires_at IS NULL OR k.expires_at > now());
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF t.last_used_at IS NULL OR t.last_used_at < now() - interval '5 minutes' THEN
        UPDATE api_tokens k SET last_used_at = now() WHERE k.id = t.id;
    END IF;
    RETURN QUERY
    SELECT a.id, a.role, a.name, a.unit_level, a.unit_code,
           CASE a.unit_level
               WHEN 'province' THEN a.unit_code
               WHEN 'commune' THEN (SELECT u.province_code FROM admin_units u
                                     WHERE u.level = 'commune' AND u.code = a.unit_code
                                     ORDER BY u.valid_to IS NULL DESC, u.valid_from DESC LIMIT 1)
           END,
           a.carrier_code, t.id, t.expires_at
      FROM accounts a WHERE a.id = t.account_id AND a.disabled_at IS NULL;
END $$;

-- ---------------------------------------------------------- dead-zone points
CREATE TABLE dz_points (
    id              bigserial PRIMARY KEY,
    geom            geometry(Point, 4326) NOT NULL,
    province_code   text NOT NULL,
    commune_code    text,
    technology      text NOT NULL CHECK (technology IN ('2G', '3G', '4G', '5G')),
    status          text NOT NULL DEFAULT 'reported'
                    CHECK (status IN ('reported', 'triaged', 'assigned', 'in_progress', 'blocked',
                                      'fixed', 'verified', 'rejected', 'reopened', 'merged')),
    blocked_reason  text CHECK (blocked_reason IN ('no_power', 'site_permit', 'terrain',
                                                   'investment', 'other')),
    rejected_reason text,
    disputed        boolean NOT NULL DEFAULT false,
    due_date        date,
    merged_into     bigint REFERENCES dz_points (id),
    report_count    integer NOT NULL DEFAULT 0,
    people_affected integer NOT NULL DEFAULT 0,
    first_reported  timestamptz NOT NULL DEFAULT now(),
    fixed_at        timestamptz,
    verified_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dz_points_geom_idx ON dz_points USING gist (geom);
CREATE INDEX dz_points_area_idx ON dz_points (province_code, commune_code);
CREATE INDEX dz_points_status_idx ON dz_points (status, id);

CREATE TABLE assignments (
    id             bigserial PRIMARY KEY,
    point_id       bigint NOT NULL REFERENCES dz_points (id),
    carrier_code   text NOT NULL REFERENCES carriers (code),
    province_code  text NOT NULL,              -- copied from the point for scoping
    commune_code   text,
    status         text NOT NULL DEFAULT 'assigned'
                   CHECK (status IN ('assigned', 'in_progress', 'blocked', 'fixed', 'verified',
                                     'withdrawn')),
    blocked_reason text CHECK (blocked_reason IN ('no_power', 'site_permit', 'terrain',
                                                  'investment', 'other')),
    due_date       date,
    assigned_at    timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (point_id, carrier_code)
);
CREATE INDEX assignments_carrier_idx ON assignments (carrier_code, status, due_date);

-- ------------------------------------------------------------------ reports
CREATE TABLE reports (
    id              bigserial PRIMARY KEY,
    point_id        bigint REFERENCES dz_points (id),
    account_id      bigint REFERENCES accounts (id),
    province_code   text NOT NULL,             -- the unit it was filed under
    commune_code    text,
    unit_valid_on   date NOT NULL DEFAULT current_date,
    geom            geometry(Geometry, 4326) NOT NULL CHECK (ST_GeometryType(geom) IN ('ST_Point', 'ST_Polygon')),
    technology      text NOT NULL CHECK (technology IN ('2G', '3G', '4G', '5G')),
    carriers        text[] NOT NULL DEFAULT '{}',
    symptom         text NOT NULL CHECK (symptom IN ('no_signal', 'weak_signal', 'slow_data')),
    place           text CHECK (length(place) <= 200),
    people_affected integer CHECK (people_affected BETWEEN 0 AND 10000000),
    note            text CHECK (length(note) <= 4000),
    source          text NOT NULL DEFAULT 'api' CHECK (source IN ('map', 'api', 'file')),
    source_batch    bigint,
    source_row      integer,
    client_ref      text CHECK (length(client_ref) <= 200),
    withdrawn_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, client_ref)
);
CREATE INDEX reports_point_idx ON reports (point_id);
CREATE INDEX reports_area_idx ON reports (province_code, commune_code);
CREATE INDEX reports_geom_idx ON reports USING gist (geom);

-- ------------------------------------------------------------------- events
-- The history of every point.  Append-only: the application role has no
-- UPDATE or DELETE right, and the trigger refuses them from anyone.
CREATE TABLE events (
    id            bigserial PRIMARY KEY,
    point_id      bigint NOT NULL REFERENCES dz_points (id),
    assignment_id bigint REFERENCES assignments (id),
    province_code text NOT NULL,
    commune_code  text,
    carrier_code  text,
    at            timestamptz NOT NULL,        -- when it happened
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    account_id    bigint,
    actor_role    text NOT NULL,
    kind          text NOT NULL,               -- transition, report, comment, evidence, merge ...
    from_status   text,
    to_status     text,
    reason        text,
    note          text CHECK (length(note) <= 4000),
    data          jsonb
);
CREATE INDEX events_point_idx ON events (point_id, at, id);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- ------------------------------------------------------------ ingest batches
CREATE TABLE ingest_batches (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('measurements', 'reports')),
    account_id  bigint,
    carrier_code text,
    province_code text,
    source_name text,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'committed', 'failed')),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    summary     jsonb
);

-- ------------------------------------------------------------- measurements
CREATE SEQUENCE measurements_id_seq;
CREATE TABLE measurements (
    id            bigint NOT NULL DEFAULT nextval('measurements_id_seq'),
    measured_at   timestamptz NOT NULL,
    geom          geometry(Point, 4326) NOT NULL,
    province_code text,
    carrier_code  text REFERENCES carriers (code),
    technology    text CHECK (technology IN ('2G', '3G', '4G', '5G')),
    download_mbps real CHECK (download_mbps >= 0),
    upload_mbps   real CHECK (upload_mbps >= 0),
    latency_ms    real CHECK (latency_ms >= 0),
    rsrp          real,
    rsrq          real,
    sinr          real,
    meets_min     boolean NOT NULL,
    batch_id      bigint NOT NULL,
    device_hash   text,
    dedupe_key    bytea NOT NULL,              -- from the row's content or its own test id
    PRIMARY KEY (measured_at, dedupe_key)
) PARTITION BY RANGE (measured_at);
CREATE INDEX measurements_geom_idx ON measurements USING gist (geom);
CREATE INDEX measurements_batch_idx ON measurements (batch_id);

-- Makes the monthly partitions covering [p_from, p_to); returns how many it
-- made.  SECURITY DEFINER so that ingest (as lomsong_app) can extend the
-- table to a new month without owning it.
CREATE FUNCTION measurements_ensure_partitions(p_from timestamptz, p_to timestamptz)
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
            EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
            made := made + 1;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN made;
END $$;
SELECT measurements_ensure_partitions('2024-01-01', '2027-01-01');

-- ----------------------------------------------------------- coverage cells
-- Aggregates of measurements per grid cell x carrier x technology at several
-- resolutions, kept current by ingest so that maps never aggregate raw rows
-- at request time.  `res` is the cell size level (see the coverage module).
CREATE TABLE coverage_cells (
    res           smallint NOT NULL,
    cell_x        integer NOT NULL,
    cell_y        integer NOT NULL,
    carrier_code  text NOT NULL,
    technology    text NOT NULL,
    tests         integer NOT NULL,
    meeting_min   integer NOT NULL,
    p10_download  real,
    p50_download  real,
    last_measured timestamptz NOT NULL,
    geom          geometry(Polygon, 4326) NOT NULL,
    PRIMARY KEY (res, cell_x, cell_y, carrier_code, technology)
);
CREATE INDEX coverage_cells_geom_idx ON coverage_cells USING gist (geom);

-- ------------------------------------------------------ row-level security
ALTER TABLE dz_points ENABLE ROW LEVEL SECURITY;
ALTER TABLE dz_points FORCE ROW LEVEL SECURITY;
ALTER TABLE assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignments FORCE ROW LEVEL SECURITY;
ALTER TABLE reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE reports FORCE ROW LEVEL SECURITY;
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
ALTER TABLE measurements ENABLE ROW LEVEL SECURITY;
ALTER TABLE measurements FORCE ROW LEVEL SECURITY;
ALTER TABLE ingest_batches ENABLE ROW LEVEL SECURITY;
ALTER TABLE ingest_batches FORCE ROW LEVEL SECURITY;

-- Assignments reference nothing else in their policies, so the policies of
-- dz_points may look at assignments without recursion.
CREATE POLICY assignments_read ON assignments FOR SELECT USING (
    ctx_role() IN ('ministry', 'system')
    OR (ctx_role() = 'carrier' AND carrier_code = ctx_carrier())
    OR (ctx_role() = 'locality' AND ctx_in_area(province_code, commune_code))
    OR (ctx_role() = 'utility' AND blocked_reason = 'no_power'
        AND ctx_in_area(province_code, commune_code)));
CREATE POLICY assignments_write ON assignments FOR INSERT WITH CHECK (ctx_role() IN ('ministry', 'system'));
CREATE POLICY assignments_update ON assignments FOR UPDATE USING (
    ctx_role() IN ('ministry', 'system')
    OR (ctx_role() = 'carrier' AND carrier_code = ctx_carrier())
    OR (ctx_role() = 'utility' AND blocked_reason = 'no_power'
        AND ctx_in_area(province_code, commune_code)));

CREATE POLICY dz_points_read ON dz_points FOR SELECT USING (
    ctx_role() IN ('ministry', 'system')
    OR (ctx_role() = 'locality' AND ctx_in_area(province_code, commune_code))
    OR (ctx_role() IN ('carrier', 'utility')
        AND EXISTS (SELECT 1 FROM assignments a WHERE a.point_id = dz_points.id)));
CREATE POLICY dz_points_insert ON dz_points FOR INSERT WITH CHECK (
    ctx_role() IN ('ministry', 'system')
    OR (ctx_role() = 'locality' AND ctx_in_area(province_code, commune_code)));
CREATE POLICY dz_points_update ON dz_points FOR UPDATE USING (
    ctx_role() IN ('ministry', 'system')
    OR (ctx_role() = 'locality' AND ctx_in_area(province_code, commune_code))
    OR (ctx_role() IN ('carrier', 'utility')
        AND EXISTS (SELECT 1 FROM assignments a WHERE a.point_id = dz_points.id)));

CREATE POLICY reports_read ON reports FOR SELECT USING (
    ctx_role() IN ('ministry', 'system')
    OR (ctx_role() = 'locality' AND ctx_in_area(province_code, commune_code))
    OR (ctx_role() IN ('carrier', 'utility') AND point_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM assignments a WHERE a.point_id = reports.point_id)));
CREATE POLICY reports_insert ON reports FOR INSERT WITH CHECK (
    ctx_role() IN ('ministry', 'system')
    OR (ctx_role() = 'locality' AND account_id = ctx_account()
        AND ctx_in_area(province_code, commune_code)));
CREATE POLICY reports_update ON reports FOR UPDATE USING (
    ctx_role() IN ('ministry', 'system')
    OR (ctx_role() = 'locality' AND account_id = ctx_account()));

CREATE POLICY events_read ON events FOR SELECT USING (
    ctx_role() IN ('ministry', 'system')
    OR (ctx_role() = 'locality' AND ctx_in_area(province_code, commune_code))
    OR (ctx_role() IN ('carrier', 'utility')
        AND EXISTS (SELECT 1 FROM assignments a WHERE a.point_id = events.point_id)));
CREATE POLICY events_insert ON events FOR INSERT WITH CHECK (
    ctx_role() IS NOT NULL AND ctx_role() <> 'public'
    AND (ctx_role() IN ('ministry', 'system') OR account_id = ctx_account()));

CREATE POLICY measurements_read ON measurements FOR SELECT USING (
    ctx_role() IN ('ministry', 'system')
    OR (ctx_role() = 'carrier' AND carrier_code = ctx_carrier())
    OR (ctx_role() = 'locality' AND ctx_in_area(province_code, NULL)));
CREATE POLICY measurements_insert ON measurements FOR INSERT WITH CHECK (
    ctx_role() IN ('ministry', 'system', 'locality')
    OR (ctx_role() = 'carrier' AND carrier_code = ctx_carrier()));

CREATE POLICY ingest_batches_read ON ingest_batches FOR SELECT USING (
    ctx_role() IN ('ministry', 'system') OR account_id = ctx_account());
CREATE POLICY ingest_batches_write ON ingest_batches FOR INSERT WITH CHECK (
    ctx_role() IN ('ministry', 'system') OR account_id = ctx_account());
CREATE POLICY ingest_batches_update ON ingest_batches FOR UPDATE USING (
    ctx_role() IN ('ministry', 'system') OR account_id = ctx_account());

-- ------------------------------------------------------------------ grants
REVOKE ALL ON FUNCTION auth_token(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION measurements_ensure_partitions(timestamptz, timestamptz) FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO lomsong_app;
GRANT SELECT ON admin_units, unit_successors, carriers, coverage_cells TO lomsong_app;
GRANT SELECT, INSERT, UPDATE ON dz_points, assignments, reports, ingest_batches TO lomsong_app;
GRANT SELECT, INSERT ON events, measurements TO lomsong_app;
GRANT INSERT, UPDATE, DELETE ON coverage_cells TO lomsong_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO lomsong_app;
GRANT EXECUTE ON FUNCTION auth_token(bytea) TO lomsong_app;
GRANT EXECUTE ON FUNCTION measurements_ensure_partitions(timestamptz, timestamptz) TO lomsong_app;
-- lomsong migrate creates schema_migrations before the first migration;
-- /healthz reports the schema version from it.
GRANT SELECT ON schema_migrations TO lomsong_app;
