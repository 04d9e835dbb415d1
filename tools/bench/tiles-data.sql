-- tools/bench/tiles-data.sql — the data of tools/bench/tiles.sh: :n speed
-- tests (10 M) with their coverage cells, and :points dead-zone points
-- (100 k) with their assignments, written straight into the bench database
-- in the 'system' context.  Loading 10 M rows through the ingest takes
-- minutes of a shared machine; this is set-based SQL, deterministic
-- (setseed, seeded ST_GeneratePoints), and the cells are computed by the
-- very definitions ingest uses (ingest/measure.c): cell16_of() for the
-- level-16 cell of a test, exact percentile_cont p10/p50 for level 16, and
-- for levels 13/10/7 the 32-bin histogram of hist_bin() summed per cell,
-- whose p10/p50 hist_pct() reads off it.
--
-- psql -v n=10000000 -v points=100000 -v sites=12000 -f tiles-data.sql
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET synchronous_commit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';
SELECT set_config('lomsong.role', 'system', false) AS role \gset
SELECT setseed(0.1234) AS seed \gset

-- Provinces with a weight: cities get more test sites; mountains more dead zones.
CREATE TEMP TABLE prov AS
SELECT code, geom_simple AS g,
       CASE WHEN code IN ('01', '79', '48', '31', '92', '24', '33') THEN 4
            WHEN code IN ('04', '08', '11', '12', '14', '15', '20', '52', '66', '68', '44', '40',
                          '51', '42', '38') THEN 1 ELSE 2 END AS w,
       CASE WHEN code IN ('04', '08', '11', '12', '14', '15', '20', '52', '66', '68', '44', '40',
                          '51', '42', '38') THEN 3 ELSE 1 END AS pw
  FROM admin_units WHERE level = 'province' AND valid_to IS NULL;

-- Test sites: drive-test areas of ~1.5 km radius, each with a quality
-- (cities better), spread over the provinces by weight.
CREATE TEMP TABLE sites AS
SELECT row_number() OVER (ORDER BY code, path) AS s, code, ST_X(geom) AS lon, ST_Y(geom) AS lat,
       least(1.0, 0.15 + random() * 0.55 + w * 0.08) AS q
  FROM (SELECT p.code, p.w, (ST_Dump(ST_GeneratePoints(p.g,
               greatest(1, round(:sites * p.w / (SELECT sum(w) FROM prov)))::int,
               100 + p.code::int))).*
          FROM prov p) d;
SELECT count(*) AS nsites FROM sites \gset

INSERT INTO ingest_batches (kind, status, source_name, finished_at)
VALUES ('measurements', 'committed', 'tools/bench/tiles-data.sql', now())
RETURNING id AS batch \gset

\echo measurements ...
\timing on
INSERT INTO measurements (measured_at, lon7, lat7, province, carrier, tech,
                          download_mbps, meets_min, batch_id, dedupe_key, cell16)
SELECT t, round(lon * 1e7)::int, round(lat * 1e7)::int, code::smallint,
       (SELECT num FROM carriers WHERE carriers.code = carrier), left(tech, 1)::smallint, d,
       d >= 40, :batch, i, cell16_of(lon, lat)
  FROM (SELECT g.i, s.code,
               s.lon + 0.0135 * sqrt(g.r1) * cos(2 * pi() * g.r2) / cos(radians(s.lat)) AS lon,
               s.lat + 0.0135 * sqrt(g.r1) * sin(2 * pi() * g.r2) AS lat,
               CASE WHEN g.r3 < 0.40 THEN 'viettel' WHEN g.r3 < 0.65 THEN 'vinaphone'
                    WHEN g.r3 < 0.90 THEN 'mobifone' ELSE 'vietnamobile' END AS carrier,
               CASE WHEN g.r4 < 0.70 THEN '4G' WHEN g.r4 < 0.90 THEN '3G' ELSE '5G' END AS tech,
               CASE WHEN g.r5 < (1 - s.q) * 0.2 THEN 0
                    ELSE round((s.q * 160 * power(g.r6, 0.7))::numeric, 1)::real END AS d,
               now() - interval '330 days' * g.r7 AS t
          FROM (SELECT i, 1 + (i::bigint * 7919) % :nsites AS s, random() AS r1, random() AS r2,
                       random() AS r3, random() AS r4, random() AS r5, random() AS r6,
                       random() AS r7
                  FROM generate_series(1, :n) i) g
          JOIN sites s ON s.s = g.s) m;

-- The tests with their carrier and technology as texts, as the cells have them.
CREATE TEMP VIEW mt AS
SELECT m.*, c.code AS carrier_code, m.tech || 'G' AS technology
  FROM measurements m JOIN carriers c ON c.num = m.carrier;

\echo cells, level 16 (exact percentiles, in blocks of 8 x 8) ...
INSERT INTO coverage_blocks
SELECT x >> 3, y >> 3, carrier_code, technology, array_agg(s ORDER BY s),
       array_agg(n ORDER BY s), array_agg(k ORDER BY s), array_agg(p10 ORDER BY s),
       array_agg(p50 ORDER BY s), array_agg(last ORDER BY s)
  FROM (SELECT (cell16 >> 16)::int AS x, (cell16 & 65535)::int AS y,
               ((cell16 & 7) * 8 + (cell16 >> 16 & 7))::smallint AS s, carrier_code, technology,
               count(*)::int AS n, count(*) FILTER (WHERE meets_min)::int AS k,
               percentile_cont(0.1) WITHIN GROUP (ORDER BY download_mbps)::real AS p10,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY download_mbps)::real AS p50,
               max(measured_at) AS last
          FROM mt GROUP BY cell16, carrier_code, technology) c
 GROUP BY x >> 3, y >> 3, carrier_code, technology;

\echo cells, level 13 (histograms) ...
CREATE TEMP TABLE c13 AS
SELECT x, y, carrier_code, technology, count(*) AS tests,
       count(*) FILTER (WHERE meets_min) AS meeting, :hist_count AS hist, max(measured_at) AS last
  FROM (SELECT ((cell16 >> 16) >> 3)::int AS x, ((cell16 & 65535) >> 3)::int AS y,
               carrier_code, technology, meets_min, measured_at,
               hist_bin(download_mbps) AS bin FROM mt) s
 GROUP BY x, y, carrier_code, technology;
INSERT INTO coverage_cells (res, cell_x, cell_y, carrier_code, technology, tests, meeting_min,
                            hist, p10_download, p50_download, last_measured)
SELECT 13, x, y, carrier_code, technology, tests, meeting, hist, hist_pct(hist, 0.1),
       hist_pct(hist, 0.5), last FROM c13;

\echo cells, levels 10 and 7 (histograms added up) ...
INSERT INTO coverage_cells (res, cell_x, cell_y, carrier_code, technology, tests, meeting_min,
                            hist, p10_download, p50_download, last_measured)
SELECT res, x, y, carrier_code, technology, tests, meeting, hist, hist_pct(hist, 0.1),
       hist_pct(hist, 0.5), last
  FROM (SELECT k.res, x >> k.shift AS x, y >> k.shift AS y, carrier_code, technology,
               sum(tests) AS tests, sum(meeting) AS meeting, :hist_sum AS hist, max(last) AS last
          FROM c13, (VALUES (10, 3), (7, 6)) k(res, shift)
         GROUP BY k.res, x >> k.shift, y >> k.shift, carrier_code, technology) s;

\echo dead-zone points ...
-- Spread over the provinces, three times as many in the mountains; every
-- state of the workflow, due dates 90 days after the report (so many open
-- ones are overdue), one or two carriers assigned from 'assigned' on.
CREATE TEMP TABLE pts AS
SELECT row_number() OVER (ORDER BY code, path) AS i, code, geom, random() AS r_st,
       random() AS r_tech, random() AS r_car, random() AS r_two, random() AS r_ppl,
       now() - random() * interval '400 days' AS rep
  FROM (SELECT p.code, (ST_Dump(ST_GeneratePoints(p.g,
               greatest(1, round(:points * p.pw / (SELECT sum(pw) FROM prov)))::int,
               500 + p.code::int))).*
          FROM prov p) d;
INSERT INTO dz_points (geom, province_code, technology, status, blocked_reason, due_date,
                       report_count, people_affected, first_reported, fixed_at, verified_at)
SELECT geom, code, CASE WHEN r_tech < 0.75 THEN '4G' ELSE '3G' END, st,
       CASE WHEN st = 'blocked' THEN (ARRAY['no_power', 'site_permit', 'terrain', 'investment',
                                            'other'])[1 + floor(r_car * 5)::int] END,
       CASE WHEN st NOT IN ('reported', 'triaged', 'rejected') THEN (rep + interval '90 days')::date END,
       1 + floor(r_ppl * 3)::int, 10 + floor(r_ppl * 490)::int, rep,
       CASE WHEN st IN ('fixed', 'verified') THEN rep + interval '60 days' END,
       CASE WHEN st = 'verified' THEN rep + interval '80 days' END
  FROM (SELECT p.*, CASE WHEN r_st < 0.15 THEN 'reported' WHEN r_st < 0.25 THEN 'triaged'
                         WHEN r_st < 0.45 THEN 'assigned' WHEN r_st < 0.60 THEN 'in_progress'
                         WHEN r_st < 0.70 THEN 'blocked' WHEN r_st < 0.80 THEN 'fixed'
                         WHEN r_st < 0.92 THEN 'verified' WHEN r_st < 0.97 THEN 'rejected'
                         ELSE 'reopened' END AS st
          FROM pts p) s
 ORDER BY i;
INSERT INTO assignments (point_id, carrier_code, province_code, status, blocked_reason, due_date,
                         assigned_at)
SELECT p.id, c.code, p.province_code,
       CASE p.status WHEN 'reopened' THEN 'assigned' ELSE p.status END, p.blocked_reason,
       p.due_date, p.first_reported + interval '10 days'
  FROM dz_points p
 CROSS JOIN LATERAL (SELECT (ARRAY['viettel', 'vinaphone', 'mobifone', 'vietnamobile'])
                            [1 + (p.id % 4)::int] AS code
                     UNION
                     SELECT (ARRAY['viettel', 'vinaphone', 'mobifone', 'vietnamobile'])
                            [1 + ((p.id + 1) % 4)::int] WHERE p.id % 10 < 3) c
 WHERE p.status IN ('assigned', 'in_progress', 'blocked', 'fixed', 'verified', 'reopened');
\timing off

ANALYZE measurements;
ANALYZE coverage_cells;
ANALYZE coverage_blocks;
ANALYZE dz_points;
ANALYZE assignments;
SELECT (SELECT count(*) FROM measurements) AS measurements,
       (SELECT count(*) FROM coverage_cells) AS cells,
       (SELECT count(*) FROM coverage_cells16) AS cells16,
       (SELECT count(*) FROM dz_points) AS points,
       (SELECT count(*) FROM assignments) AS assignments;
