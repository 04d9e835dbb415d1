// tests/browser/run.mjs — the web page in a real browser: Debian's chromium
// (never a downloaded one) driven by playwright-core from maps/web.
//
// Run by the C suite tests/test_web.c, which starts the server, prepares
// the data and tokens and passes them in the environment; prints one JSON
// line per case on stdout: {"case": NAME, "ok": BOOL, "detail": TEXT}, which
// the suite turns into passes and failures of the harness.  A failing case
// leaves a screenshot in tests/artifacts/<case>.png.  Progress goes to stderr.
//
// Environment:
//   LOMSONG_URL                       the server, http://127.0.0.1:PORT
//   LOMSONG_TOKEN_LOCALITY|CARRIER|MINISTRY
//   LOMSONG_WEB_C, LOMSONG_WEB_D      "lat,lon,place" of the reports cases c and d file
//   LOMSONG_WEB_VIEW                  "lat,lon" of the prepared points (case b)
//   LOMSONG_WEB_START_POINT           a point assigned to the carrier, in 'assigned'
//   LOMSONG_WEB_OTHER_POINT           a point assigned to another carrier only
//   LOMSONG_WEB_OTHER_AT              "lat,lon" of that point
//   LOMSONG_CHROMIUM                  the browser (default /usr/bin/chromium)
//   LOMSONG_ARTIFACTS                 where screenshots go (default tests/artifacts)

import { mkdirSync, existsSync } from 'node:fs';
import { chromium } from '../../maps/web/node_modules/playwright-core/index.mjs';

const env = process.env;
const URL0 = (env.LOMSONG_URL || '').replace(/\/$/, '');
const ORIGIN = URL0 ? new URL(URL0).origin : '';
const TOK = {
    locality: env.LOMSONG_TOKEN_LOCALITY,
    carrier: env.LOMSONG_TOKEN_CARRIER,
    ministry: env.LOMSONG_TOKEN_MINISTRY,
};
const CHROMIUM = env.LOMSONG_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = env.LOMSONG_ARTIFACTS || 'tests/artifacts';
const CASE_TIMEOUT_MS = 180000;

function log(...a) {
    process.stderr.write(`[browser] ${a.join(' ')}\n`);
}

function result(name, ok, detail) {
    process.stdout.write(JSON.stringify({ case: name, ok, detail: detail || '' }) + '\n');
}

function triple(s) {
    const [lat, lon, ...rest] = (s || '').split(',');
    return { lat: Number(lat), lon: Number(lon), place: rest.join(',') };
}

class Fail extends Error {}
function check(cond, msg) {
    if (!cond) throw new Fail(msg);
}

/* The API from node (not the browser: it stays online when the page is not). */
async function apiGet(path, token) {
    const res = await fetch(URL0 + path, { headers: { Authorization: `Bearer ${token}` } });
    const body = await res.json();
    if (!res.ok) throw new Fail(`GET ${path}: ${res.status} ${body.detail || ''}`);
    return body;
}

/* Every keyset page of a list. */
async function apiAll(path, key, token) {
    let out = [];
    let next = path;
    while (next) {
        const page = await apiGet(next, token);
        out = out.concat(page[key]);
        next = page.next;
    }
    return out;
}

function isLocal(u) {
    if (u.startsWith('data:') || u.startsWith('blob:') || u === 'about:blank') return true;
    try {
        return new URL(u).origin === ORIGIN;
    } catch {
        return false;
    }
}

/* A fresh context (own storage, own service worker) with every request
 * recorded, every console error and page error kept. */
async function newContext(browser, opts = {}) {
    const ctx = await browser.newContext({
        viewport: opts.viewport || { width: 1280, height: 860 },
        locale: opts.locale || 'vi-VN',
        serviceWorkers: 'allow',
    });
    const rec = { requests: [], outside: [], errors: [], tiles: [] };
    ctx.on('request', (r) => {
        const u = r.url();
        rec.requests.push(u);
        if (!isLocal(u)) rec.outside.push(u);
    });
    ctx.on('response', (r) => {
        if (r.url().includes('/tiles/')) rec.tiles.push({ url: r.url(), status: r.status() });
    });
    if (opts.guard) {
        // Anything not on the server's origin is refused before it leaves.
        await ctx.route(
            (u) => !isLocal(u.href),
            (route) => route.abort('blockedbyclient')
        );
    }
    ctx.on('page', (p) => watch(p, rec));
    return { ctx, rec };
}

function watch(page, rec) {
    page.on('console', (m) => {
        if (m.type() === 'error') rec.errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => rec.errors.push(`pageerror: ${e.message}`));
}

async function ready(page) {
    await page.waitForFunction(() => window.lomsong && window.lomsong.ready === true, null, { timeout: 60000 });
}

/* Opens the page and signs in with a token through the form (the page
 * reloads itself); with viaForm false the token is put where the form
 * keeps it before the page loads (one load instead of two). */
async function signIn(page, token, viaForm = true) {
    if (!viaForm) {
        await page.addInitScript((t) => localStorage.setItem('lomsong.token', t), token);
        await page.goto(URL0 + '/');
        await ready(page);
        return;
    }
    await page.goto(URL0 + '/');
    await ready(page);
    await page.fill('#token', token);
    await Promise.all([page.waitForEvent('load'), page.click('#signin button[type=submit]')]);
    await ready(page);
}

/* Moves the map and waits until every tile of the view is loaded and drawn. */
async function viewAndSettle(page, lon, lat, zoom) {
    await page.evaluate(
        ([lon, lat, zoom]) =>
            new Promise((resolve) => {
                const m = window.lomsong.map;
                m.once('idle', () => resolve());
                m.jumpTo({ center: [lon, lat], zoom });
                m.triggerRepaint();
            }),
        [lon, lat, zoom]
    );
}

/* Clicks the map canvas where (lon, lat) is drawn. */
async function clickMap(page, lon, lat) {
    const pt = await page.evaluate(([lon, lat]) => {
        const m = window.lomsong.map;
        const p = m.project([lon, lat]);
        const r = m.getCanvas().getBoundingClientRect();
        return { x: r.left + p.x, y: r.top + p.y };
    }, [lon, lat]);
    await page.mouse.click(pt.x, pt.y);
}

async function fillReport(page, { place, tech, carrier, symptom, people }) {
    await page.waitForSelector('#report-dialog[open]', { timeout: 10000 });
    await page.check(`#report-form input[name=technology][value="${tech}"]`);
    await page.check(`#report-form input[name=carriers][value="${carrier}"]`);
    await page.selectOption('#report-form select[name=symptom]', symptom);
    await page.fill('#report-form input[name=place]', place);
    await page.fill('#report-form input[name=people_affected]', String(people));
    await page.click('#report-submit');
}

/* ------------------------------------------------------------- cases */

const cases = [];
function testCase(name, fn) {
    cases.push({ name, fn });
}

// (a) The page loads with no console error and no request leaving the
// server's origin: signed out, signed in as the ministry (dashboard, point
// layer), with a point opened and the language switched.
testCase('a_no_errors_no_outside_requests', async (browser, st) => {
    const { ctx, rec } = await newContext(browser, { guard: true });
    st.ctx = ctx;
    const page = await ctx.newPage();
    st.page = page;
    await signIn(page, TOK.ministry);
    await page.waitForSelector('#totals [data-stat=received]', { timeout: 30000 });
    await page.evaluate(() => new Promise((r) => (window.lomsong.map.loaded() ? r() : window.lomsong.map.once('idle', r))));
    await page.click('#lang');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    // The dashboard is drawn again in English.
    await page.waitForSelector('#chart-province g', { timeout: 30000 });
    check((await page.textContent('#dashboard h2')) === 'Progress dashboard', 'the dashboard did not switch to English');
    const view = triple(env.LOMSONG_WEB_VIEW);
    await viewAndSettle(page, view.lon, view.lat, 12);
    await page.evaluate((id) => window.lomsong.showPoint(Number(id)), env.LOMSONG_WEB_START_POINT);
    await page.waitForSelector('#timeline li', { timeout: 20000 });
    await page.waitForTimeout(500);
    // Both languages have every string.
    const langs = await page.evaluate(async () => {
        const m = await import('/web/i18n.js');
        return { vi: m.keys('vi').sort(), en: m.keys('en').sort() };
    });
    const missing = langs.vi.filter((k) => !langs.en.includes(k)).concat(langs.en.filter((k) => !langs.vi.includes(k)));
    check(langs.vi.length > 100 && missing.length === 0, `strings in one language only: ${missing.join(', ')}`);
    check(rec.requests.length > 10, `only ${rec.requests.length} requests were seen: the recording does not work`);
    check(rec.requests.some((u) => u.includes('/web/maplibre-gl.mjs')), 'MapLibre was not loaded from the server');
    check(rec.requests.some((u) => u.includes('/tiles/')), 'no tile was requested');
    check(rec.outside.length === 0, `requests left ${ORIGIN}: ${rec.outside.slice(0, 5).join(' ')}`);
    check(rec.errors.length === 0, `errors: ${rec.errors.slice(0, 5).join(' | ')}`);
    return `${rec.requests.length} requests, all to ${ORIGIN}; no console error`;
});

// (b) The map draws tiles: every tile answer is 200 or 204 (empty), each
// layer had 200s, and the map has drawn features of the boundaries, the
// coverage cells and the prepared points.
testCase('b_map_draws_tiles', async (browser, st) => {
    const { ctx, rec } = await newContext(browser);
    st.ctx = ctx;
    const page = await ctx.newPage();
    st.page = page;
    await signIn(page, TOK.ministry, false);
    const view = triple(env.LOMSONG_WEB_VIEW);
    await viewAndSettle(page, view.lon, view.lat, 12);
    const drawn = await page.evaluate(() => {
        const m = window.lomsong.map;
        const n = (layers) => m.queryRenderedFeatures({ layers }).length;
        return {
            units: n(['units-fill']),
            coverage: n(['coverage-fill']),
            points: n(['points-circle']),
            ids: m.queryRenderedFeatures({ layers: ['points-circle'] }).map((f) => f.properties.id),
            classes: [...new Set(m.queryRenderedFeatures({ layers: ['coverage-fill'] }).map((f) => f.properties.class))],
        };
    });
    const bad = rec.tiles.filter((x) => x.status !== 200 && x.status !== 204);
    check(bad.length === 0, `tile answers not 200/204: ${bad.slice(0, 3).map((x) => `${x.status} ${x.url}`).join(' ')}`);
    for (const layer of ['units', 'coverage', 'points'])
        check(
            rec.tiles.some((x) => x.status === 200 && x.url.includes(`/tiles/${layer}/`)),
            `no ${layer} tile came back 200 (${rec.tiles.length} tile answers)`
        );
    check(drawn.units > 0, 'no province boundary was drawn');
    check(drawn.coverage > 0, 'no coverage cell was drawn');
    check(drawn.points > 0, 'no dead-zone point was drawn');
    const want = Number(env.LOMSONG_WEB_START_POINT);
    check(drawn.ids.map(Number).includes(want), `point ${want} is not among the drawn points ${drawn.ids.join(',')}`);
    return `${rec.tiles.length} tiles; drawn: ${drawn.units} boundary, ${drawn.coverage} coverage (${drawn.classes.join('/')}), ${drawn.points} point features`;
});

// (c) A locality clicks the map, fills the form, sends it, and sees it in
// its list; the server has it as filled.
testCase('c_locality_reports_by_click', async (browser, st) => {
    const { ctx } = await newContext(browser);
    st.ctx = ctx;
    const page = await ctx.newPage();
    st.page = page;
    const c = triple(env.LOMSONG_WEB_C);
    await signIn(page, TOK.locality, false);
    await page.waitForSelector('#my-reports h3', { timeout: 30000 });
    await viewAndSettle(page, c.lon, c.lat, 15);
    await clickMap(page, c.lon, c.lat);
    await fillReport(page, { place: c.place, tech: '3G', carrier: 'viettel', symptom: 'weak_signal', people: 42 });
    await page.waitForFunction(
        (place) => [...document.querySelectorAll('#my-reports-list .place')].some((e) => e.textContent === place),
        c.place,
        { timeout: 30000 }
    );
    const all = await apiAll('/v1/reports?limit=1000', 'reports', TOK.locality);
    const mine = all.filter((r) => r.place === c.place);
    check(mine.length === 1, `the server has ${mine.length} reports with place ${c.place}`);
    const r = mine[0];
    check(r.technology === '3G' && r.symptom === 'weak_signal', `filed as ${r.technology} ${r.symptom}`);
    check(r.people_affected === 42, `people_affected ${r.people_affected}`);
    check(JSON.stringify(r.carriers) === '["viettel"]', `carriers ${JSON.stringify(r.carriers)}`);
    check(r.source === 'map', `source ${r.source}`);
    const d = Math.hypot(Number(r.lat) - c.lat, Number(r.lon) - c.lon);
    check(d < 0.0005, `filed at ${r.lat},${r.lon}, clicked at ${c.lat},${c.lon}`);
    return `report ${r.id} at ${r.lat},${r.lon} (point ${r.point_id})`;
});

// (d) Offline: the page loads from the service worker, a report made then
// waits on the device, and is sent once when the connection returns.
testCase('d_offline_report_sent_once', async (browser, st) => {
    const { ctx } = await newContext(browser);
    st.ctx = ctx;
    const page = await ctx.newPage();
    st.page = page;
    const d = triple(env.LOMSONG_WEB_D);
    await signIn(page, TOK.locality);
    await page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller !== null, null, { timeout: 30000 });
    // Let the first visit settle (the shell cached, the map drawn once).
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await viewAndSettle(page, d.lon, d.lat, 15);

    await ctx.setOffline(true);
    await page.reload();
    await ready(page);
    const net = await page.textContent('#net');
    check(await page.evaluate(() => !navigator.onLine), 'the browser does not think it is offline');
    check(await page.$('#net.offline'), `the page does not say it is offline (${net})`);
    await viewAndSettle(page, d.lon, d.lat, 15);
    await clickMap(page, d.lon, d.lat);
    await fillReport(page, { place: d.place, tech: '4G', carrier: 'mobifone', symptom: 'no_signal', people: 7 });
    await page.waitForSelector('#outbox-list li[data-state=waiting]', { timeout: 15000 });
    const waiting = await page.$$eval('#outbox-list li', (lis) => lis.map((li) => ({ state: li.dataset.state, text: li.textContent })));
    check(waiting.length === 1 && waiting[0].text.includes(d.place), `the outbox shows ${JSON.stringify(waiting)}`);
    const kept = await page.evaluate(() => window.lomsong.outbox.list());
    check(kept.length === 1 && kept[0].key && kept[0].report.place === d.place, `IndexedDB holds ${JSON.stringify(kept)}`);
    let onServer = (await apiAll('/v1/reports?limit=1000', 'reports', TOK.locality)).filter((r) => r.place === d.place);
    check(onServer.length === 0, 'the server has the report while the browser was offline');

    await ctx.setOffline(false);
    // The `online` event sends it; the list then shows it as filed.
    await page.waitForFunction(
        (place) => [...document.querySelectorAll('#my-reports-list .place')].some((e) => e.textContent === place),
        d.place,
        { timeout: 30000 }
    );
    const left = await page.evaluate(() => window.lomsong.outbox.list());
    check(left.length === 0, `the outbox still holds ${left.length} after sending`);
    // Another flush and a reload must not send it again.
    await page.evaluate(() => window.lomsong.flush());
    await page.reload();
    await ready(page);
    onServer = (await apiAll('/v1/reports?limit=1000', 'reports', TOK.locality)).filter((r) => r.place === d.place);
    check(onServer.length === 1, `the server has ${onServer.length} reports with place ${d.place}`);
    return `report ${onServer[0].id} sent once with key ${kept[0].key}`;
});

// (e) A carrier sees exactly its own work list (GET /v1/assignments for its
// token, in that order), no other carrier's point, and can move one.
testCase('e_carrier_sees_own_assignments', async (browser, st) => {
    const { ctx } = await newContext(browser);
    st.ctx = ctx;
    const page = await ctx.newPage();
    st.page = page;
    await signIn(page, TOK.carrier, false);
    await page.waitForSelector('#work-list li', { timeout: 30000 });
    const shown = await page.$$eval('#work-list > li', (lis) =>
        lis.map((li) => ({ id: Number(li.dataset.assignment), point: Number(li.dataset.point), carrier: li.dataset.carrier }))
    );
    const api = (await apiGet('/v1/assignments', TOK.carrier)).assignments;
    check(
        JSON.stringify(shown.map((x) => x.id)) === JSON.stringify(api.map((a) => a.id)),
        `the list shows assignments ${shown.map((x) => x.id).join(',')}; the API gives ${api.map((a) => a.id).join(',')}`
    );
    const me = await apiGet('/v1/me', TOK.carrier);
    check(shown.every((x) => x.carrier === me.carrier.code), `an assignment of another carrier is listed`);
    const other = Number(env.LOMSONG_WEB_OTHER_POINT);
    check(!shown.some((x) => x.point === other), `point ${other} of another carrier is listed`);
    // Nor on the map.
    const at = triple(env.LOMSONG_WEB_OTHER_AT);
    await viewAndSettle(page, at.lon, at.lat, 14);
    const ids = await page.evaluate(() => window.lomsong.map.queryRenderedFeatures({ layers: ['points-circle'] }).map((f) => Number(f.properties.id)));
    check(!ids.includes(other), `point ${other} of another carrier is drawn on the map`);
    // A move the workflow allows: start work on an assigned point.
    const start = Number(env.LOMSONG_WEB_START_POINT);
    await page.click(`#work-list > li[data-point="${start}"] button[data-to=in_progress]`);
    await page.waitForSelector(`#work-list > li[data-point="${start}"][data-status=in_progress]`, { timeout: 20000 });
    const after = (await apiGet('/v1/assignments', TOK.carrier)).assignments.find((a) => a.point_id === start);
    check(after && after.status === 'in_progress', `after the click the assignment is ${after && after.status}`);
    return `${shown.length} assignments as the API lists them; point ${other} absent; point ${start} started`;
});

// (f) The ministry's dashboard shows the numbers of /v1/stats/summary.
testCase('f_dashboard_matches_summary', async (browser, st) => {
    const { ctx } = await newContext(browser);
    st.ctx = ctx;
    const page = await ctx.newPage();
    st.page = page;
    await signIn(page, TOK.ministry, false);
    await page.waitForSelector('#totals [data-stat=received]', { timeout: 30000 });
    const shown = await page.$$eval('[data-stat]', (els) => Object.fromEntries(els.map((e) => [e.dataset.stat, e.textContent.trim()])));
    const sum = await apiGet('/v1/stats/summary', TOK.ministry);
    const keys = ['received', 'awaiting_triage', 'in_progress', 'blocked', 'fixed_not_verified', 'verified', 'rejected', 'overdue', 'median_days_to_verified'];
    const diffs = [];
    for (const k of keys) {
        const want = sum[k] === null ? '—' : String(sum[k]);
        if (shown[k] !== want) diffs.push(`${k}: page ${shown[k]}, API ${want}`);
    }
    for (const [k, v] of Object.entries(sum.blocked_by_reason)) {
        if (shown[`blocked_by_reason.${k}`] !== String(v)) diffs.push(`blocked ${k}: page ${shown[`blocked_by_reason.${k}`]}, API ${v}`);
    }
    check(diffs.length === 0, diffs.join('; '));
    check(sum.received > 0 && sum.blocked > 0, `the summary is too empty to compare (${JSON.stringify(sum)})`);
    const prov = await apiGet('/v1/stats/progress?by=province', TOK.ministry);
    const bars = await page.$$eval('#chart-province g', (gs) => gs.length);
    check(bars === prov.rows.length, `${bars} province bars, ${prov.rows.length} provinces in the progress`);
    return `${keys.length + Object.keys(sum.blocked_by_reason).length} numbers equal; ${bars} province bars`;
});

/* -------------------------------------------------------------- main */

async function main() {
    if (!URL0) {
        result('launch', false, 'LOMSONG_URL is not set');
        return 1;
    }
    if (!existsSync(CHROMIUM)) {
        for (const c of cases) result(c.name, false, `${CHROMIUM} is not installed (apt-get install chromium; make test does it)`);
        return 1;
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    const args = [
        '--use-angle=swiftshader',
        '--enable-unsafe-swiftshader',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
    ];
    if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
    let browser;
    try {
        browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
    } catch (e) {
        for (const c of cases) result(c.name, false, `chromium did not start: ${e.message.split('\n')[0]}`);
        return 1;
    }
    log(`chromium ${browser.version()}`);
    const only = env.LOMSONG_WEB_CASES ? env.LOMSONG_WEB_CASES.split(',') : null;
    let failed = 0;
    for (const c of cases) {
        if (only && !only.some((o) => c.name.startsWith(o))) continue;
        const st = {};
        const t0 = Date.now();
        let timer;
        try {
            const detail = await Promise.race([
                c.fn(browser, st),
                new Promise((_, rej) => {
                    timer = setTimeout(() => rej(new Fail(`timed out after ${CASE_TIMEOUT_MS / 1000} s`)), CASE_TIMEOUT_MS);
                }),
            ]);
            result(c.name, true, detail);
            log(`ok ${c.name} (${Date.now() - t0} ms): ${detail}`);
        } catch (e) {
            failed++;
            const msg = e instanceof Fail ? e.message : `${e.name}: ${e.message.split('\n')[0]}`;
            let shot = '';
            if (st.page) {
                try {
                    const path = `${ARTIFACTS}/${c.name}.png`;
                    await st.page.screenshot({ path, fullPage: true, timeout: 10000 });
                    shot = ` (screenshot ${path})`;
                } catch {
                    shot = ' (no screenshot)';
                }
            }
            result(c.name, false, msg + shot);
            log(`FAIL ${c.name}: ${msg}${shot}`);
        } finally {
            clearTimeout(timer);
            if (st.ctx) await st.ctx.close().catch(() => {});
        }
    }
    await browser.close();
    return failed ? 1 : 0;
}

main().then(
    (code) => process.exit(code),
    (e) => {
        result('launch', false, `the browser run crashed: ${e.message}`);
        process.exit(1);
    }
);
