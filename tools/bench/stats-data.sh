#!/usr/bin/env bash
# tools/bench/stats-data.sh — N synthetic dead-zone points (default 100,000)
# with their reports, assignments and events, for benchmarking the user
# operations at national scale (tools/bench/api.sh, tools/bench/stats.sh).
#
#   LOMSONG_ADMIN_DB='…owner conninfo…' tools/bench/stats-data.sh [N]
#
# Written straight into the database in the 'system' context (not through
# the API: 100,000 reports over HTTP would take too long), set-based and
# deterministic (setseed).  The points are spread over the 34 provinces
# (more in the mountains), 70 % of them with a commune; over 18 months of
# first reports (ids in that order); over every status (about 70 % assigned to one carrier or
# two, some withdrawn); due dates 90 days after assignment, so that many
# open points are overdue.  Every point gets one report and an event per
# step.  Run it on a database of its own (the reference data loaded, the
# migrations applied): it refuses a database that already has points.
set -euo pipefail
N=${1:-100000}
: "${LOMSONG_ADMIN_DB:?LOMSONG_ADMIN_DB must name the owner connection of the bench database}"
psql -X -q -v ON_ERROR_STOP=1 -v n="$N" "$LOMSONG_ADMIN_DB" <<'SQL'
SET client_min_messages = warning;
BEGIN;
SELECT set_config('lomsong.role', 'system', true) \gset
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM dz_points) THEN
        RAISE EXCEPTION 'this database already has dead-zone points: use a fresh one';
    END IF;
END $$;
SELECT setseed(0.4242) \gset

CREATE TEMP TABLE prov ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY code) - 1 AS k, code, ST_PointOnSurface(geom_simple) AS c,
       CASE WHEN code IN ('04', '08', '11', '12', '14', '15', '20', '52', '66', '68', '44', '40',
                          '51', '42', '38') THEN 3 ELSE 1 END AS w
  FROM admin_units WHERE level = 'province' AND valid_to IS NULL;
-- A weighted pick: slot -> province.
CREATE TEMP TABLE slot ON COMMIT DROP AS
SELECT row_number() OVER () - 1 AS s, p.code, p.c FROM prov p, generate_series(1, p.w);
CREATE TEMP TABLE comm ON COMMIT DROP AS
SELECT province_code, array_agg(code ORDER BY code) AS codes FROM admin_units
 WHERE level = 'commune' AND valid_to IS NULL GROUP BY province_code;

CREATE TEMP TABLE gen ON COMMIT DROP AS
SELECT i, floor(random() * (SELECT count(*) FROM slot))::int AS s, random() AS r_st,
       random() AS r_tech, random() AS r_comm, random() AS r_car, random() AS r_two,
       random() AS r_reason, random() AS r_dx, random() AS r_dy,
       now() - random() * interval '540 days' AS rep,
       1 + random() * 20 AS d_triage, 1 + random() * 10 AS d_assign,
       5 + random() * 60 AS d_work, 3 + random() * 40 AS d_verify
  FROM generate_series(1, :n) i;

CREATE TEMP TABLE plan ON COMMIT DROP AS
SELECT g.*, sl.code AS province_code,
       CASE WHEN g.r_comm < 0.7 AND cm.codes IS NOT NULL
            THEN cm.codes[1 + floor(g.r_comm / 0.7 * array_length(cm.codes, 1))::int] END
           AS commune_code,
       ST_SetSRID(ST_MakePoint(ST_X(sl.c) + (g.r_dx - 0.5) * 0.2,
                               ST_Y(sl.c) + (g.r_dy - 0.5) * 0.2), 4326) AS geom,
       CASE WHEN g.r_tech < 0.70 THEN '4G' WHEN g.r_tech < 0.95 THEN '3G'
            WHEN g.r_tech < 0.98 THEN '2G' ELSE '5G' END AS technology,
       CASE WHEN g.r_st < 0.08 THEN 'reported' WHEN g.r_st < 0.13 THEN 'triaged'
            WHEN g.r_st < 0.17 THEN 'rejected' WHEN g.r_st < 0.18 THEN 'merged'
            WHEN g.r_st < 0.33 THEN 'assigned' WHEN g.r_st < 0.53 THEN 'in_progress'
            WHEN g.r_st < 0.63 THEN 'blocked' WHEN g.r_st < 0.75 THEN 'fixed'
            WHEN g.r_st < 0.98 THEN 'verified' ELSE 'reopened' END AS status,
       (ARRAY['no_power', 'no_power', 'no_power', 'site_permit', 'site_permit', 'terrain',
              'investment', 'other'])[1 + floor(g.r_reason * 8)::int] AS reason,
       (ARRAY['viettel', 'viettel', 'vinaphone', 'mobifone', 'vietnamobile'])
           [1 + floor(g.r_car * 5)::int] AS carrier1,
       (ARRAY['viettel', 'vinaphone', 'mobifone'])[1 + floor(g.r_two * 10)::int % 3] AS carrier2
  FROM gen g JOIN slot sl ON sl.s = g.s LEFT JOIN comm cm ON cm.province_code = sl.code;
-- Ids in the order of the first reports, as points are made in real life
-- (and so their rows, and their facts, lie in that order on disk).
ALTER TABLE plan ADD COLUMN id bigint;
UPDATE plan p SET id = o.n + (SELECT coalesce(max(id), 0) FROM dz_points)
  FROM (SELECT i, row_number() OVER (ORDER BY rep, i) AS n FROM plan) o WHERE o.i = p.i;
SELECT setval('dz_points_id_seq', (SELECT max(id) FROM plan)) \gset
ALTER TABLE plan ADD COLUMN t_triage timestamptz, ADD COLUMN t_assign timestamptz,
    ADD COLUMN t_work timestamptz, ADD COLUMN t_fixed timestamptz, ADD COLUMN t_verified timestamptz;
UPDATE plan SET t_triage = least(rep + d_triage * interval '1 day', now()),
                t_assign = least(rep + (d_triage + d_assign) * interval '1 day', now()),
                t_work = least(rep + (d_triage + d_assign + d_work / 3) * interval '1 day', now()),
                t_fixed = least(rep + (d_triage + d_assign + d_work) * interval '1 day', now()),
                t_verified = least(rep + (d_triage + d_assign + d_work + d_verify)
                                   * interval '1 day', now());

INSERT INTO dz_points (id, geom, province_code, commune_code, technology, status, blocked_reason,
                       rejected_reason, due_date, merged_into, report_count, people_affected,
                       first_reported, fixed_at, verified_at, updated_at)
SELECT id, geom, province_code, commune_code, technology, status,
       CASE WHEN status = 'blocked' THEN reason END,
       CASE WHEN status = 'rejected' THEN 'duplicate' END,
       CASE WHEN status IN ('assigned', 'in_progress', 'blocked', 'reopened')
            THEN (t_assign + interval '90 days')::date END,
       NULL, 1, 20 + (i * 37) % 900, rep,
       CASE WHEN status IN ('fixed', 'verified') THEN t_fixed END,
       CASE WHEN status = 'verified' THEN t_verified END, now()
  FROM plan ORDER BY id;
-- A merged point joined the point before it.
UPDATE dz_points p SET merged_into = p.id - 1 WHERE p.status = 'merged' AND p.id > (SELECT min(id) FROM plan);

INSERT INTO reports (point_id, province_code, commune_code, geom, technology, carriers, symptom,
                     place, people_affected, source, client_ref, created_at)
SELECT id, province_code, commune_code, geom, technology, ARRAY[carrier1],
       (ARRAY['no_signal', 'weak_signal', 'slow_data'])[1 + i % 3], 'Thôn ' || (i % 97),
       20 + (i * 37) % 900, 'map', 'bench-' || i, rep
  FROM plan;

-- Assignments: the first carrier for every point past triage; a second one
-- for a fifth of them; a withdrawn one now and then.
CREATE TEMP TABLE asg ON COMMIT DROP AS
SELECT id AS point_id, carrier1 AS carrier_code, province_code, commune_code, status AS pst,
       reason, t_assign, t_work, t_fixed, t_verified, 1 AS nth, r_two
  FROM plan WHERE status IN ('assigned', 'in_progress', 'blocked', 'fixed', 'verified', 'reopened')
UNION ALL
SELECT id, carrier2, province_code, commune_code, status, reason, t_assign, t_work, t_fixed,
       t_verified, 2, r_two
  FROM plan WHERE status IN ('assigned', 'in_progress', 'blocked', 'fixed', 'verified', 'reopened')
   AND r_two < 0.2 AND carrier2 <> carrier1;
INSERT INTO assignments (point_id, carrier_code, province_code, commune_code, status,
                         blocked_reason, due_date, assigned_at, updated_at)
SELECT point_id, carrier_code, province_code, commune_code,
       CASE WHEN nth = 2 AND r_two < 0.03 THEN 'withdrawn'
            WHEN pst = 'reopened' THEN 'in_progress'
            WHEN pst = 'blocked' AND nth = 2 THEN 'assigned'
            ELSE pst END,
       CASE WHEN pst = 'blocked' AND nth = 1 THEN reason END,
       (t_assign + interval '90 days')::date, t_assign, now()
  FROM asg;

-- Events: the report, then one per step to the point's status.
INSERT INTO events (point_id, province_code, commune_code, at, actor_role, kind, to_status, note)
SELECT id, province_code, commune_code, rep, 'locality', 'report', 'reported', 'bench data'
  FROM plan;
INSERT INTO events (point_id, province_code, commune_code, at, actor_role, kind, from_status,
                    to_status, reason)
SELECT id, province_code, commune_code, t_triage, 'ministry', 'transition', 'reported',
       CASE WHEN status = 'rejected' THEN 'rejected' ELSE 'triaged' END,
       CASE WHEN status = 'rejected' THEN 'duplicate' END
  FROM plan WHERE status NOT IN ('reported', 'merged');
INSERT INTO events (point_id, province_code, commune_code, at, actor_role, kind, to_status)
SELECT id, province_code, commune_code, t_triage, 'ministry', 'merge', 'merged'
  FROM plan WHERE status = 'merged';
INSERT INTO events (point_id, province_code, commune_code, carrier_code, at, actor_role, kind,
                    from_status, to_status)
SELECT id, province_code, commune_code, carrier1, t_assign, 'ministry', 'transition', 'triaged',
       'assigned'
  FROM plan WHERE status IN ('assigned', 'in_progress', 'blocked', 'fixed', 'verified', 'reopened');
INSERT INTO events (point_id, province_code, commune_code, carrier_code, at, actor_role, kind,
                    from_status, to_status, reason)
SELECT id, province_code, commune_code, carrier1, t_work, 'carrier', 'transition', 'assigned',
       CASE WHEN status = 'blocked' THEN 'blocked' ELSE 'in_progress' END,
       CASE WHEN status = 'blocked' THEN reason END
  FROM plan WHERE status IN ('in_progress', 'blocked', 'fixed', 'verified', 'reopened');
INSERT INTO events (point_id, province_code, commune_code, carrier_code, at, actor_role, kind,
                    from_status, to_status)
SELECT id, province_code, commune_code, carrier1, t_fixed, 'carrier', 'transition',
       'in_progress', 'fixed'
  FROM plan WHERE status IN ('fixed', 'verified', 'reopened');
INSERT INTO events (point_id, province_code, commune_code, at, actor_role, kind, from_status,
                    to_status)
SELECT id, province_code, commune_code, t_verified, 'system', 'transition', 'fixed', 'verified'
  FROM plan WHERE status IN ('verified', 'reopened');
INSERT INTO events (point_id, province_code, commune_code, at, actor_role, kind, from_status,
                    to_status)
SELECT id, province_code, commune_code, now(), 'system', 'transition', 'verified', 'reopened'
  FROM plan WHERE status = 'reopened';
COMMIT;
ANALYZE dz_points;
ANALYZE assignments;
ANALYZE reports;
ANALYZE events;
SELECT set_config('lomsong.role', 'system', false) \gset
SELECT 'points ' || (SELECT count(*) FROM dz_points) || ', assignments '
       || (SELECT count(*) FROM assignments) || ', reports ' || (SELECT count(*) FROM reports)
       || ', events ' || (SELECT count(*) FROM events) AS made;
SQL
