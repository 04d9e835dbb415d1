-- 008_stats.sql — live progress at national scale (issue 4, item 7).
--
-- GET /v1/stats/progress and /v1/stats/summary used to aggregate every
-- dead-zone point in scope at request time (300-550 ms at 100,000 points).
-- Three structures are now kept current by triggers on dz_points and
-- assignments, in the transaction of the change itself, whatever makes the
-- change (the API, verification by measurements, the ministry's merges and
-- splits, a fix by hand in SQL):
--
--   point_facts    one narrow row per point that counts (not merged): what
--                  the statistics need of it and of its assignments.  A
--                  commune's numbers are read from the facts of its area;
--                  everyone's for the edges of a from/to window.
--
--   stats_cells    counters per plane x month first reported x province x
--                  technology x "has an active assignment": one column per
--                  number of the report, and the due dates of the open
--                  points as sorted arrays (overdue = the dates before today,
--                  found by binary search: width_bucket).  Plane '' holds
--                  every point once (the ministry's view); plane <carrier>
--                  the points that carrier sees (it has or had an assignment
--                  there), so a carrier's numbers are a plane of their own;
--                  a province's are its cells of each plane.  At 100,000
--                  points some 4,000 cells replace 100,000 rows.
--
--   stats_verified the verified points' days from report to verified, per
--                  plane, in indexes ordered by days: the median of a group
--                  is read at its rank (OFFSET (n-1)/2 in the index), exact,
--                  without sorting the group.
--
-- Counters updated in place by every transaction would make transactions
-- wait on each other (every report in a province in a month touches the
-- same cell, and a measurement batch that verifies points holds its locks
-- for seconds) and could deadlock.  So a change appends its old and new
-- facts to stats_deltas under its transaction id, and a deferred constraint
-- trigger folds them into stats_cells at COMMIT, taking the cells in key
-- order: cell locks are held for the instant of the commit only, always in
-- the same order.
--
-- The point row is the lock that orders the writers of one point's facts:
-- the triggers lock it before they read anything, so two transactions that
-- touch one point (its assignments, its status) derive its facts one after
-- the other, each from what the other committed.

-- --------------------------------------------------------------- point facts
CREATE TABLE point_facts (
    point_id         bigint PRIMARY KEY,
    province_code    text NOT NULL,
    commune_code     text,
    technology       text NOT NULL,
    status           text NOT NULL,
    blocked_reason   text,
    reported_on      date NOT NULL,    -- first_reported as a Vietnam date
    due_date         date,
    days_to_verified float8,           -- verified_at - first_reported in days, when verified
    carriers         text[] NOT NULL,  -- carriers of its assignments not withdrawn, sorted
    seen_by          text[] NOT NULL   -- carriers of all its assignments, sorted
);
CREATE INDEX point_facts_area_idx ON point_facts (province_code, reported_on);
CREATE INDEX point_facts_commune_idx ON point_facts (commune_code, reported_on);
CREATE INDEX point_facts_reported_idx ON point_facts (reported_on);

-- The facts of every point as they are now, from dz_points and assignments:
-- what point_facts must always equal (the tests compare the two).
CREATE VIEW point_facts_now AS
SELECT p.id AS point_id, p.province_code, p.commune_code, p.technology, p.status,
       p.blocked_reason, (p.first_reported AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS reported_on,
       p.due_date,
       CASE WHEN p.status = 'verified'
            THEN (extract(epoch FROM p.verified_at - p.first_reported) / 86400.0)::float8
       END AS days_to_verified,
       coalesce((SELECT array_agg(DISTINCT a.carrier_code ORDER BY a.carrier_code)
                   FROM assignments a WHERE a.point_id = p.id AND a.status <> 'withdrawn'),
                '{}') AS carriers,
       coalesce((SELECT array_agg(DISTINCT a.carrier_code ORDER BY a.carrier_code)
                   FROM assignments a WHERE a.point_id = p.id), '{}') AS seen_by
  FROM dz_points p
 WHERE p.status <> 'merged';

-- The planes a point is counted in: '' (active: it has an active
-- assignment), and each carrier that sees it (active: that carrier's
-- assignment is not withdrawn).
CREATE FUNCTION stats_planes(carriers text[], seen_by text[])
RETURNS TABLE (plane text, active boolean) LANGUAGE sql IMMUTABLE AS $$
    SELECT '', cardinality(carriers) > 0
    UNION ALL
    SELECT c, c = ANY (carriers) FROM unnest(seen_by) c
$$;

-- ---------------------------------------------------------------- counters
CREATE TABLE stats_cells (
    plane           text NOT NULL,      -- '' every point; a carrier code: the points it sees
    month           date NOT NULL,      -- first day of the month of reported_on
    province_code   text NOT NULL,
    technology      text NOT NULL,
    active          boolean NOT NULL,   -- see stats_planes
    received        integer NOT NULL,
    reported        integer NOT NULL,
    in_progress     integer NOT NULL,   -- triaged, assigned, in_progress, reopened
    blocked         integer NOT NULL,
    no_power        integer NOT NULL,   -- blocked, by reason
    site_permit     integer NOT NULL,
    terrain         integer NOT NULL,
    investment      integer NOT NULL,
    other           integer NOT NULL,
    fixed           integer NOT NULL,
    verified        integer NOT NULL,
    rejected        integer NOT NULL,
    timed           integer NOT NULL,   -- verified with a days_to_verified
    -- due dates, sorted: of the open points (not fixed, verified, rejected),
    -- of the blocked ones, and of the blocked ones by reason
    open_due        date[] NOT NULL,
    blocked_due     date[] NOT NULL,
    no_power_due    date[] NOT NULL,
    site_permit_due date[] NOT NULL,
    terrain_due     date[] NOT NULL,
    investment_due  date[] NOT NULL,
    other_due       date[] NOT NULL,
    PRIMARY KEY (plane, month, province_code, technology, active)
);

-- Old (-1) and new (+1) facts of the points a transaction changed, until it
-- commits.  Unlogged: its rows live only inside their transaction.
CREATE UNLOGGED TABLE stats_deltas (LIKE point_facts);
ALTER TABLE stats_deltas ADD COLUMN xid bigint NOT NULL, ADD COLUMN sign integer NOT NULL;
CREATE INDEX stats_deltas_xid_idx ON stats_deltas (xid);
-- One row per transaction with deltas: its deferred trigger folds them.
CREATE UNLOGGED TABLE stats_pending (xid bigint PRIMARY KEY);

-- The sorted multiset old + add - del (each of del is in old + add).
-- PL/pgSQL, so that its query is planned once per session.
CREATE FUNCTION stats_merge(old date[], add date[], del date[]) RETURNS date[]
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF add IS NULL AND del IS NULL THEN
        RETURN old;
    END IF;
    RETURN (SELECT coalesce(array_agg(x ORDER BY x), '{}')
              FROM (SELECT unnest(old) UNION ALL SELECT unnest(add)
                    EXCEPT ALL SELECT unnest(del)) s(x));
END $$;

-- ------------------------------------------------------- verified, by rank
CREATE TABLE stats_verified (
    point_id      bigint NOT NULL,
    plane         text NOT NULL,
    province_code text NOT NULL,
    technology    text NOT NULL,
    month         date NOT NULL,
    active        boolean NOT NULL,
    reported_on   date NOT NULL,
    days          float8 NOT NULL,
    PRIMARY KEY (point_id, plane)
);
-- (reported_on for a window, province_code for a province's own numbers)
CREATE INDEX stats_verified_all_idx ON stats_verified (plane, days)
    INCLUDE (reported_on, province_code);
CREATE INDEX stats_verified_province_idx ON stats_verified (plane, province_code, days)
    INCLUDE (reported_on);
CREATE INDEX stats_verified_tech_idx ON stats_verified (plane, technology, days)
    INCLUDE (reported_on, province_code);
CREATE INDEX stats_verified_month_idx ON stats_verified (plane, month, days)
    INCLUDE (reported_on, province_code);
CREATE INDEX stats_verified_active_idx ON stats_verified (plane, active, days)
    INCLUDE (reported_on, province_code);
-- Index-only scans need the visibility map: vacuum it often.
ALTER TABLE stats_verified SET (autovacuum_vacuum_scale_factor = 0.01,
                                autovacuum_vacuum_insert_scale_factor = 0.01);

-- Derives one point's facts again and records the change.  Runs in the
-- system context (it must see every assignment whoever acts; set and
-- restored here, as point_apply does), and only derives: it takes no input
-- but the id.
CREATE FUNCTION stats_point_refresh(p_point bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    caller text := coalesce(current_setting('lomsong.role', true), '');
    o point_facts;
    n point_facts;
    had boolean;
    has boolean;
BEGIN
    PERFORM set_config('lomsong.role', 'system', true);
    -- The point's row lock first (see the top of this file).
    PERFORM 1 FROM dz_points WHERE id = p_point FOR NO KEY UPDATE;
    SELECT * INTO n FROM point_facts_now WHERE point_id = p_point;
    has := FOUND;
    SELECT * INTO o FROM point_facts WHERE point_id = p_point;
    had := FOUND;
    IF had = has AND (NOT has OR o IS NOT DISTINCT FROM n) THEN
        PERFORM set_config('lomsong.role', caller, true);
        RETURN;
    END IF;
    IF has AND had THEN
        UPDATE point_facts SET province_code = n.province_code, commune_code = n.commune_code,
               technology = n.technology, status = n.status, blocked_reason = n.blocked_reason,
               reported_on = n.reported_on, due_date = n.due_date,
               days_to_verified = n.days_to_verified, carriers = n.carriers, seen_by = n.seen_by
         WHERE point_id = p_point;
    ELSIF has THEN
        INSERT INTO point_facts VALUES (n.*);
    ELSE
        DELETE FROM point_facts WHERE point_id = p_point;
    END IF;
    IF had THEN
        INSERT INTO stats_deltas VALUES (o.*, txid_current(), -1);
    END IF;
    IF has THEN
        INSERT INTO stats_deltas VALUES (n.*, txid_current(), 1);
    END IF;
    INSERT INTO stats_pending VALUES (txid_current()) ON CONFLICT DO NOTHING;
    IF (had AND o.days_to_verified IS NOT NULL) OR (has AND n.days_to_verified IS NOT NULL) THEN
        DELETE FROM stats_verified WHERE point_id = p_point;
        IF has AND n.days_to_verified IS NOT NULL THEN
            INSERT INTO stats_verified
            SELECT p_point, pl.plane, n.province_code, n.technology,
                   date_trunc('month', n.reported_on::timestamp)::date, pl.active,
                   n.reported_on, n.days_to_verified
              FROM stats_planes(n.carriers, n.seen_by) pl;
        END IF;
    END IF;
    PERFORM set_config('lomsong.role', caller, true);
END $$;
REVOKE ALL ON FUNCTION stats_point_refresh(bigint) FROM PUBLIC;

-- The cells of a set of facts rows, each counted `sign` times (deltas, or
-- the facts themselves with sign 1): the counts, and the due dates added
-- (sign > 0) and taken away (sign < 0).
CREATE VIEW stats_delta_cells AS
SELECT d.xid, pl.plane, date_trunc('month', d.reported_on::timestamp)::date AS month,
       d.province_code, d.technology, pl.active,
       sum(d.sign)::int AS received,
       sum(d.sign * (d.status = 'reported')::int)::int AS reported,
       sum(d.sign * (d.status IN ('triaged', 'assigned', 'in_progress', 'reopened'))::int)::int
           AS in_progress,
       sum(d.sign * (d.status = 'blocked')::int)::int AS blocked,
       sum(d.sign * (d.status = 'blocked' AND d.blocked_reason IS NOT DISTINCT FROM 'no_power')::int)::int
           AS no_power,
       sum(d.sign * (d.status = 'blocked'
                     AND d.blocked_reason IS NOT DISTINCT FROM 'site_permit')::int)::int
           AS site_permit,
       sum(d.sign * (d.status = 'blocked' AND d.blocked_reason IS NOT DISTINCT FROM 'terrain')::int)::int
           AS terrain,
       sum(d.sign * (d.status = 'blocked'
                     AND d.blocked_reason IS NOT DISTINCT FROM 'investment')::int)::int
           AS investment,
       sum(d.sign * (d.status = 'blocked' AND d.blocked_reason IS NOT DISTINCT FROM 'other')::int)::int
           AS other,
       sum(d.sign * (d.status = 'fixed')::int)::int AS fixed,
       sum(d.sign * (d.status = 'verified')::int)::int AS verified,
       sum(d.sign * (d.status = 'rejected')::int)::int AS rejected,
       sum(d.sign * (d.status = 'verified' AND d.days_to_verified IS NOT NULL)::int)::int AS timed,
       array_agg(d.due_date) FILTER (WHERE d.sign > 0 AND d.open) AS open_add,
       array_agg(d.due_date) FILTER (WHERE d.sign < 0 AND d.open) AS open_del,
       array_agg(d.due_date) FILTER (WHERE d.sign > 0 AND d.open AND d.status = 'blocked')
           AS blocked_add,
       array_agg(d.due_date) FILTER (WHERE d.sign < 0 AND d.open AND d.status = 'blocked')
           AS blocked_del,
       array_agg(d.due_date) FILTER (WHERE d.sign > 0 AND d.open AND d.status = 'blocked'
                                     AND d.blocked_reason = 'no_power') AS no_power_add,
       array_agg(d.due_date) FILTER (WHERE d.sign < 0 AND d.open AND d.status = 'blocked'
                                     AND d.blocked_reason = 'no_power') AS no_power_del,
       array_agg(d.due_date) FILTER (WHERE d.sign > 0 AND d.open AND d.status = 'blocked'
                                     AND d.blocked_reason = 'site_permit') AS site_permit_add,
       array_agg(d.due_date) FILTER (WHERE d.sign < 0 AND d.open AND d.status = 'blocked'
                                     AND d.blocked_reason = 'site_permit') AS site_permit_del,
       array_agg(d.due_date) FILTER (WHERE d.sign > 0 AND d.open AND d.status = 'blocked'
                                     AND d.blocked_reason = 'terrain') AS terrain_add,
       array_agg(d.due_date) FILTER (WHERE d.sign < 0 AND d.open AND d.status = 'blocked'
                                     AND d.blocked_reason = 'terrain') AS terrain_del,
       array_agg(d.due_date) FILTER (WHERE d.sign > 0 AND d.open AND d.status = 'blocked'
                                     AND d.blocked_reason = 'investment') AS investment_add,
       array_agg(d.due_date) FILTER (WHERE d.sign < 0 AND d.open AND d.status = 'blocked'
                                     AND d.blocked_reason = 'investment') AS investment_del,
       array_agg(d.due_date) FILTER (WHERE d.sign > 0 AND d.open AND d.status = 'blocked'
                                     AND d.blocked_reason = 'other') AS other_add,
       array_agg(d.due_date) FILTER (WHERE d.sign < 0 AND d.open AND d.status = 'blocked'
                                     AND d.blocked_reason = 'other') AS other_del
  FROM (SELECT x.*, x.status NOT IN ('fixed', 'verified', 'rejected', 'merged')
                    AND x.due_date IS NOT NULL AS open
          FROM stats_deltas x) d,
       stats_planes(d.carriers, d.seen_by) pl
 GROUP BY d.xid, pl.plane, date_trunc('month', d.reported_on::timestamp)::date, d.province_code,
          d.technology, pl.active;

-- At COMMIT: the transaction's deltas into stats_cells, one cell at a time
-- in key order; cells left with no point are dropped.
CREATE FUNCTION stats_fold() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    caller text := coalesce(current_setting('lomsong.role', true), '');
    r record;
BEGIN
    PERFORM set_config('lomsong.role', 'system', true);
    FOR r IN SELECT * FROM stats_delta_cells WHERE xid = NEW.xid
              ORDER BY plane, month, province_code, technology, active LOOP
        INSERT INTO stats_cells AS c VALUES (
            r.plane, r.month, r.province_code, r.technology, r.active, r.received, r.reported,
            r.in_progress, r.blocked, r.no_power, r.site_permit, r.terrain, r.investment, r.other,
            r.fixed, r.verified, r.rejected, r.timed,
            stats_merge('{}', r.open_add, r.open_del),
            stats_merge('{}', r.blocked_add, r.blocked_del),
            stats_merge('{}', r.no_power_add, r.no_power_del),
            stats_merge('{}', r.site_permit_add, r.site_permit_del),
            stats_merge('{}', r.terrain_add, r.terrain_del),
            stats_merge('{}', r.investment_add, r.investment_del),
            stats_merge('{}', r.other_add, r.other_del))
        ON CONFLICT (plane, month, province_code, technology, active) DO UPDATE SET
            received = c.received + r.received, reported = c.reported + r.reported,
            in_progress = c.in_progress + r.in_progress, blocked = c.blocked + r.blocked,
            no_power = c.no_power + r.no_power, site_permit = c.site_permit + r.site_permit,
            terrain = c.terrain + r.terrain, investment = c.investment + r.investment,
            other = c.other + r.other, fixed = c.fixed + r.fixed,
            verified = c.verified + r.verified, rejected = c.rejected + r.rejected,
            timed = c.timed + r.timed,
            open_due = stats_merge(c.open_due, r.open_add, r.open_del),
            blocked_due = stats_merge(c.blocked_due, r.blocked_add, r.blocked_del),
            no_power_due = stats_merge(c.no_power_due, r.no_power_add, r.no_power_del),
            site_permit_due = stats_merge(c.site_permit_due, r.site_permit_add,
                                          r.site_permit_del),
            terrain_due = stats_merge(c.terrain_due, r.terrain_add, r.terrain_del),
            investment_due = stats_merge(c.investment_due, r.investment_add, r.investment_del),
            other_due = stats_merge(c.other_due, r.other_add, r.other_del);
        DELETE FROM stats_cells c
         WHERE (c.plane, c.month, c.province_code, c.technology, c.active)
               = (r.plane, r.month, r.province_code, r.technology, r.active)
           AND c.received = 0;
    END LOOP;
    DELETE FROM stats_deltas WHERE xid = NEW.xid;
    DELETE FROM stats_pending WHERE xid = NEW.xid;
    PERFORM set_config('lomsong.role', caller, true);
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER stats_pending_fold AFTER INSERT ON stats_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stats_fold();

-- ---------------------------------------------------------------- triggers
CREATE FUNCTION stats_point_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM stats_point_refresh(OLD.id);
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.id <> OLD.id) THEN
        PERFORM stats_point_refresh(NEW.id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER stats_point_insert AFTER INSERT ON dz_points
    FOR EACH ROW EXECUTE FUNCTION stats_point_changed();
CREATE TRIGGER stats_point_update AFTER UPDATE ON dz_points
    FOR EACH ROW WHEN (OLD.province_code IS DISTINCT FROM NEW.province_code
                       OR OLD.commune_code IS DISTINCT FROM NEW.commune_code
                       OR OLD.technology IS DISTINCT FROM NEW.technology
                       OR OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.blocked_reason IS DISTINCT FROM NEW.blocked_reason
                       OR OLD.first_reported IS DISTINCT FROM NEW.first_reported
                       OR OLD.due_date IS DISTINCT FROM NEW.due_date
                       OR OLD.verified_at IS DISTINCT FROM NEW.verified_at
                       OR OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION stats_point_changed();
CREATE TRIGGER stats_point_delete AFTER DELETE ON dz_points
    FOR EACH ROW EXECUTE FUNCTION stats_point_changed();

-- An assignment matters to the facts by its point, its carrier and whether
-- it is withdrawn; the point's status that follows from it is the point's
-- own update.
CREATE FUNCTION stats_assignment_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM stats_point_refresh(OLD.point_id);
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.point_id IS DISTINCT FROM OLD.point_id) THEN
        PERFORM stats_point_refresh(NEW.point_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER stats_assignment_insert AFTER INSERT ON assignments
    FOR EACH ROW EXECUTE FUNCTION stats_assignment_changed();
CREATE TRIGGER stats_assignment_update AFTER UPDATE ON assignments
    FOR EACH ROW WHEN (OLD.point_id IS DISTINCT FROM NEW.point_id
                       OR OLD.carrier_code IS DISTINCT FROM NEW.carrier_code
                       OR (OLD.status = 'withdrawn') IS DISTINCT FROM (NEW.status = 'withdrawn'))
    EXECUTE FUNCTION stats_assignment_changed();
CREATE TRIGGER stats_assignment_delete AFTER DELETE ON assignments
    FOR EACH ROW EXECUTE FUNCTION stats_assignment_changed();

-- ------------------------------------------------------------ what exists
SELECT set_config('lomsong.role', 'system', true);
INSERT INTO point_facts SELECT * FROM point_facts_now;
INSERT INTO stats_deltas SELECT f.*, 0, 1 FROM point_facts f;
INSERT INTO stats_cells
SELECT plane, month, province_code, technology, active, received, reported, in_progress, blocked,
       no_power, site_permit, terrain, investment, other, fixed, verified, rejected, timed,
       stats_merge('{}', open_add, NULL), stats_merge('{}', blocked_add, NULL),
       stats_merge('{}', no_power_add, NULL), stats_merge('{}', site_permit_add, NULL),
       stats_merge('{}', terrain_add, NULL), stats_merge('{}', investment_add, NULL),
       stats_merge('{}', other_add, NULL)
  FROM stats_delta_cells WHERE xid = 0;
DELETE FROM stats_deltas;
INSERT INTO stats_verified
SELECT f.point_id, pl.plane, f.province_code, f.technology,
       date_trunc('month', f.reported_on::timestamp)::date, pl.active, f.reported_on,
       f.days_to_verified
  FROM point_facts f, stats_planes(f.carriers, f.seen_by) pl
 WHERE f.days_to_verified IS NOT NULL;
SELECT set_config('lomsong.role', '', true);

-- ------------------------------------------------------ row-level security
-- The statistics are read by the ministry (everything), a locality (the
-- facts of its area; a province-bound one also the counters of its
-- province, of every plane: they count its own points only, and it sees
-- their assignments; a commune is no dimension of the counters, so a
-- commune-bound one has none) and a carrier (the facts and the plane of the
-- points it sees).  Other roles see nothing here.  The context is read
-- through scalar subqueries, so that it is read once per query and not
-- once per row.
ALTER TABLE point_facts ENABLE ROW LEVEL SECURITY;
ALTER TABLE point_facts FORCE ROW LEVEL SECURITY;
ALTER TABLE stats_cells ENABLE ROW LEVEL SECURITY;
ALTER TABLE stats_cells FORCE ROW LEVEL SECURITY;
ALTER TABLE stats_verified ENABLE ROW LEVEL SECURITY;
ALTER TABLE stats_verified FORCE ROW LEVEL SECURITY;
ALTER TABLE stats_deltas ENABLE ROW LEVEL SECURITY;
ALTER TABLE stats_deltas FORCE ROW LEVEL SECURITY;
ALTER TABLE stats_pending ENABLE ROW LEVEL SECURITY;
ALTER TABLE stats_pending FORCE ROW LEVEL SECURITY;

CREATE POLICY point_facts_read ON point_facts FOR SELECT USING (
    (SELECT ctx_role()) IN ('ministry', 'system')
    OR ((SELECT ctx_role()) = 'locality' AND ctx_in_area(province_code, commune_code))
    OR ((SELECT ctx_role()) = 'carrier' AND (SELECT ctx_carrier()) = ANY (seen_by)));
CREATE POLICY stats_cells_read ON stats_cells FOR SELECT USING (
    (SELECT ctx_role()) IN ('ministry', 'system')
    OR ((SELECT ctx_role()) = 'locality' AND (SELECT ctx_commune()) IS NULL
        AND province_code = (SELECT ctx_province()))
    OR ((SELECT ctx_role()) = 'carrier' AND plane = (SELECT ctx_carrier())));
CREATE POLICY stats_verified_read ON stats_verified FOR SELECT USING (
    (SELECT ctx_role()) IN ('ministry', 'system')
    OR ((SELECT ctx_role()) = 'locality' AND (SELECT ctx_commune()) IS NULL
        AND province_code = (SELECT ctx_province()))
    OR ((SELECT ctx_role()) = 'carrier' AND plane = (SELECT ctx_carrier())));
-- Written only by the functions above, in the system context.
CREATE POLICY point_facts_write ON point_facts FOR ALL
    USING ((SELECT ctx_role()) = 'system') WITH CHECK ((SELECT ctx_role()) = 'system');
CREATE POLICY stats_cells_write ON stats_cells FOR ALL
    USING ((SELECT ctx_role()) = 'system') WITH CHECK ((SELECT ctx_role()) = 'system');
CREATE POLICY stats_verified_write ON stats_verified FOR ALL
    USING ((SELECT ctx_role()) = 'system') WITH CHECK ((SELECT ctx_role()) = 'system');
CREATE POLICY stats_deltas_system ON stats_deltas FOR ALL
    USING ((SELECT ctx_role()) = 'system') WITH CHECK ((SELECT ctx_role()) = 'system');
CREATE POLICY stats_pending_system ON stats_pending FOR ALL
    USING ((SELECT ctx_role()) = 'system') WITH CHECK ((SELECT ctx_role()) = 'system');

GRANT SELECT ON point_facts, stats_cells, stats_verified TO lomsong_app;
