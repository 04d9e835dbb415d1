// app.js — the lomsong web page: sign-in with a token, the map, and one
// view per role beside it.
//
//   locality  tap the map (or use the phone's position) to file a report;
//             reports made offline wait in the outbox (outbox.js) and are
//             sent when the connection returns; the area's reports and the
//             progress of their points
//   carrier   its work list (GET /v1/assignments, sorted by due date) with
//             the moves the workflow allows on each assignment
//   ministry  the dashboard: totals, progress by province and carrier,
//             blocked by reason, overdue points, downloads
//   utility   points blocked for lack of power, "power connected"
//   any role  a point's detail: its history as a timeline and the
//             measurements it was judged on
//
// No framework: the views are functions that rebuild their part of the
// panel.  window.lomsong exposes the map and a few hooks for the browser
// tests (tests/browser/run.mjs).

import * as api from './api.js';
import * as outbox from './outbox.js';
import { t, initLang, setLang, getLang, onLangChange, apply, fmtNum, fmtDate } from './i18n.js';
import { createMap, renderLegend, prewarm, STATUS_COLORS, CLASS_COLORS } from './map.js';

const $ = (sel, root = document) => root.querySelector(sel);

/* el('div', {class: 'x', onclick: fn, dataset: {a: 1}}, child, 'text', ...) */
function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'dataset') Object.assign(e.dataset, v);
        else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
        else if (k === 'text') e.textContent = v;
        else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) {
        if (c === null || c === undefined || c === false) continue;
        e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
}

/* node.replaceChildren(...) without the nulls (which it would print). */
function fill(node, ...kids) {
    node.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children.flat(Infinity)) if (c) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
}

const FALLBACK_CARRIERS = [
    { code: 'viettel', name: 'Viettel' },
    { code: 'vinaphone', name: 'VinaPhone (VNPT)' },
    { code: 'mobifone', name: 'MobiFone' },
    { code: 'vietnamobile', name: 'Vietnamobile' },
    { code: 'gmobile', name: 'Gmobile' },
    { code: 'itelecom', name: 'I-Telecom' },
    { code: 'reddi', name: 'Reddi' },
];

const app = {
    me: null, // GET /v1/me, or null when signed out
    carriers: FALLBACK_CARRIERS,
    provinces: {}, // code -> name
    mapApi: null,
    view: null, // () => renders the panel's main view again
    detail: null, // point id shown in the panel, or null
};

/* --------------------------------------------------------------- bits */

let toastTimer = null;
function toast(msg, kind = 'info') {
    const box = $('#toast');
    box.textContent = msg;
    box.className = `toast ${kind}`;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
        box.hidden = true;
    }, 5000);
}

function chip(status) {
    const c = el('span', { class: 'chip', dataset: { status } }, t('status.' + status));
    c.style.background = STATUS_COLORS[status] || '#777';
    return c;
}

function cached(key, value) {
    try {
        if (value === undefined) return JSON.parse(localStorage.getItem(key) || 'null');
        localStorage.setItem(key, JSON.stringify(value));
    } catch {
        /* storage full or refused */
    }
    return null;
}

function provinceName(code) {
    return app.provinces[code] || code || '—';
}

function carrierName(code) {
    const c = app.carriers.find((x) => x.code === code);
    return c ? c.name : code;
}

function setNet() {
    const n = $('#net');
    const on = navigator.onLine;
    n.textContent = on ? t('net.online') : t('net.offline');
    n.className = on ? 'net online' : 'net offline';
}

function panel() {
    return $('#panel');
}

function errorBox(e) {
    return el(
        'p',
        { class: 'error' },
        e && e.status === 0 ? t('error.offline') : `${t('error.load')}: ${e && e.message ? e.message : e}`
    );
}

/* ----------------------------------------------------------- sign-in */

function renderSignIn(message) {
    const p = panel();
    const input = el('input', {
        id: 'token',
        name: 'token',
        type: 'password',
        autocomplete: 'off',
        spellcheck: 'false',
        placeholder: t('signin.token.ph'),
    });
    const form = el(
        'form',
        { id: 'signin', class: 'signin' },
        el('h2', { text: t('signin.title') }),
        el('label', { class: 'field' }, el('span', { text: t('signin.token') }), input),
        el('button', { type: 'submit', class: 'primary', text: t('signin.submit') }),
        message ? el('p', { class: 'error', text: message }) : null,
        el('p', { class: 'muted', text: t('signin.help') }),
        el('p', { class: 'muted', text: t('map.hint.public') })
    );
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const tok = input.value.trim();
        if (!tok) return;
        api.setToken(tok);
        try {
            const me = await api.get('/v1/me');
            api.saveMe(me);
            location.reload();
        } catch (e) {
            api.setToken(null);
            renderSignIn(e.status === 401 ? t('signin.bad') : e.message);
        }
    });
    fill(p, form);
    app.view = () => renderSignIn(message);
}

function renderWho() {
    const who = $('#who');
    const out = $('#signout');
    if (!app.me) {
        who.textContent = '';
        out.hidden = true;
        return;
    }
    const me = app.me;
    let scope = '';
    if (me.unit) scope = ` · ${me.unit.name || me.unit.code}`;
    if (me.carrier) scope = ` · ${me.carrier.name}`;
    who.textContent = `${t('role.' + me.role)}${scope}`;
    who.title = me.name || '';
    out.hidden = false;
}

/* ------------------------------------------------------ report form */

function openReportForm(lngLat) {
    const dlg = $('#report-dialog');
    const form = $('#report-form');
    form.reset();
    form.lat.value = lngLat.lat.toFixed(6);
    form.lon.value = lngLat.lng.toFixed(6);
    form.where.value = `${lngLat.lat.toFixed(5)}, ${lngLat.lng.toFixed(5)}`;
    const box = $('#carrier-choices');
    fill(box, el('legend', { text: t('report.carriers') }));
    for (const c of app.carriers)
        box.append(el('label', {}, el('input', { type: 'checkbox', name: 'carriers', value: c.code }), ' ' + c.name));
    if (typeof dlg.showModal === 'function') dlg.showModal();
    else dlg.setAttribute('open', '');
    form.place.focus();
}

function closeReportForm() {
    const dlg = $('#report-dialog');
    if (dlg.open) dlg.close();
}

function readReportForm() {
    const f = $('#report-form');
    const body = {
        lat: Number(f.lat.value),
        lon: Number(f.lon.value),
        technology: f.technology.value || '4G',
        symptom: f.symptom.value,
        carriers: [...f.querySelectorAll('input[name=carriers]:checked')].map((x) => x.value),
    };
    const place = f.place.value.trim();
    if (place) body.place = place;
    const note = f.note.value.trim();
    if (note) body.note = note;
    if (f.people_affected.value !== '') body.people_affected = Math.max(0, Math.round(Number(f.people_affected.value)));
    return body;
}

async function sendRecord(rec) {
    try {
        const r = await api.post('/v1/reports?source=map', rec.report, { 'Idempotency-Key': rec.key });
        return { status: r.status, detail: null };
    } catch (e) {
        return { status: e.status, detail: e.message };
    }
}

/* Sends what waits in the outbox (when signed in as a locality). */
async function flushOutbox() {
    if (!app.me || app.me.role !== 'locality') return 0;
    const sent = await outbox.flush(app.me.account_id, sendRecord);
    if (sent > 0) {
        toast(`${t('report.sent')} (${sent})`, 'ok');
        if (app.mapApi) app.mapApi.refreshPoints();
        if (!app.detail && app.view) app.view();
    }
    return sent;
}

async function submitReport(ev) {
    ev.preventDefault();
    const body = readReportForm();
    closeReportForm();
    // Into the outbox first: a report is never lost, whatever the network does.
    const rec = await outbox.add(body, app.me.account_id);
    await flushOutbox();
    const left = (await outbox.list()).find((r) => r.key === rec.key);
    if (!left) return;
    if (left.state === 'refused') toast(`${t('report.refused')}: ${left.detail}`, 'error');
    else toast(t('report.queued'), 'warn');
}

function useMyPosition() {
    if (!navigator.geolocation) {
        toast(t('report.nolocation') + 'geolocation', 'error');
        return;
    }
    toast(t('report.locating'));
    navigator.geolocation.getCurrentPosition(
        (pos) => {
            const ll = { lat: pos.coords.latitude, lng: pos.coords.longitude };
            if (app.mapApi) app.mapApi.flyTo(ll.lng, ll.lat, 14);
            openReportForm(ll);
        },
        (err) => toast(t('report.nolocation') + err.message, 'error'),
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
    );
}

/* ---------------------------------------------------------- locality */

function outboxItem(rec) {
    const r = rec.report;
    const refused = rec.state === 'refused';
    return el(
        'li',
        { class: `outbox-item ${rec.state}`, dataset: { key: rec.key, state: rec.state } },
        el(
            'div',
            { class: 'line1' },
            el('span', { class: 'badge ' + rec.state, text: refused ? t('outbox.refused') : t('outbox.waiting') }),
            ' ',
            el('strong', { class: 'place', text: r.place || `${r.lat.toFixed(4)}, ${r.lon.toFixed(4)}` })
        ),
        el('div', { class: 'line2 muted' }, `${r.technology} · ${t('symptom.' + r.symptom)} · ${fmtDate(rec.created, true)}`),
        rec.detail
            ? el('div', { class: refused ? 'error' : 'muted', text: rec.status === 0 ? t('error.offline') : rec.detail })
            : null,
        refused
            ? el('button', {
                  type: 'button',
                  class: 'small',
                  text: t('outbox.dismiss'),
                  onclick: async () => {
                      await outbox.remove(rec.key);
                  },
              })
            : null
    );
}

async function renderOutbox(box) {
    const recs = (await outbox.list()).filter((r) => !app.me || r.account === app.me.account_id);
    box.hidden = recs.length === 0;
    fill(
        box,
        el('h3', {}, t('outbox.title'), ' ', el('span', { class: 'count', text: `(${recs.length})` })),
        el('ul', { id: 'outbox-list', class: 'list' }, recs.map(outboxItem)),
        navigator.onLine
            ? el('button', { type: 'button', class: 'small', text: t('outbox.send'), onclick: () => flushOutbox() })
            : null
    );
}

function reportItem(r, pointStatus) {
    return el(
        'li',
        {
            class: 'report-item clickable',
            dataset: { report: r.id, point: r.point_id },
            onclick: () => showPoint(r.point_id),
        },
        el('div', { class: 'line1' }, pointStatus ? chip(pointStatus) : null, ' ', el('strong', { class: 'place', text: r.place || `#${r.id}` })),
        el(
            'div',
            { class: 'line2 muted' },
            `${r.technology} · ${t('symptom.' + r.symptom)}${r.people_affected ? ` · ${fmtNum(r.people_affected)} ${t('common.people')}` : ''} · ${fmtDate(r.created_at, true)}`
        )
    );
}

async function renderLocality() {
    const p = panel();
    const obox = el('section', { id: 'outbox', class: 'outbox', hidden: true });
    const mine = el('section', { id: 'my-reports' }, el('h3', { text: t('mine.title') }), el('p', { class: 'muted', text: t('common.loading') }));
    fill(p, 
        el(
            'section',
            { class: 'intro' },
            el('h2', { text: t('report.title') }),
            el('p', { class: 'muted', text: t('report.hint') }),
            el('button', { type: 'button', id: 'locate', class: 'primary', text: t('report.locate'), onclick: useMyPosition })
        ),
        obox,
        mine
    );
    app.view = renderLocality;
    await renderOutbox(obox);

    let reports, statuses;
    let stale = false;
    try {
        const [rs, ps] = await Promise.all([
            api.getAll('/v1/reports?limit=1000', 'reports', 20),
            api.getAll('/v1/points?limit=1000', 'features', 20),
        ]);
        reports = rs;
        statuses = {};
        for (const f of ps) statuses[f.properties.id] = f.properties.status;
        cached('lomsong.mine', { reports: reports.slice(-200), statuses });
    } catch (e) {
        const c = cached('lomsong.mine');
        if (!c) {
            fill(mine, el('h3', { text: t('mine.title') }), errorBox(e));
            return;
        }
        reports = c.reports;
        statuses = c.statuses;
        stale = true;
    }
    if (app.view !== renderLocality || app.detail) return;
    reports.sort((a, b) => b.id - a.id);
    fill(mine, 
        el('h3', {}, t('mine.title'), ' ', el('span', { class: 'count', text: `(${reports.length})` })),
        stale ? el('p', { class: 'muted', text: t('mine.cached') }) : null,
        reports.length
            ? el('ul', { id: 'my-reports-list', class: 'list' }, reports.slice(0, 200).map((r) => reportItem(r, statuses[r.point_id])))
            : el('p', { class: 'muted', text: t('mine.empty') })
    );
}

/* ------------------------------------------------------- transitions */

/* The moves this account may make on a point now: [{to, label, needs}];
 * needs: 'reason' (block reasons), 'text' (a free reason), 'assign'. */
function movesFor(props) {
    const me = app.me;
    if (!me) return [];
    const s = props.status;
    switch (me.role) {
        case 'ministry': {
            const m = [];
            if (s === 'reported') m.push({ to: 'triaged', label: 'action.triage' });
            if (s === 'reported' || s === 'triaged') m.push({ to: 'rejected', label: 'action.reject', needs: 'text' });
            if (['triaged', 'reopened', 'assigned', 'in_progress', 'blocked'].includes(s))
                m.push({ to: 'assigned', label: 'action.assign', needs: 'assign' });
            if (s === 'fixed' || s === 'verified') m.push({ to: 'reopened', label: 'action.reopen' });
            return m;
        }
        case 'carrier': {
            const mine = (props.assignments || []).find((a) => me.carrier && a.carrier === me.carrier.code);
            return mine ? assignmentMoves(mine.status) : [];
        }
        case 'utility':
            return s === 'blocked' && props.blocked_reason === 'no_power' ? [{ to: 'in_progress', label: 'action.power' }] : [];
        case 'locality':
            return (s === 'fixed' || s === 'verified') && !props.disputed ? [{ to: 'disputed', label: 'action.dispute' }] : [];
        default:
            return [];
    }
}

function assignmentMoves(status) {
    if (status === 'assigned')
        return [
            { to: 'in_progress', label: 'action.start' },
            { to: 'blocked', label: 'action.block', needs: 'reason' },
            { to: 'fixed', label: 'action.fixed' },
        ];
    if (status === 'in_progress')
        return [
            { to: 'blocked', label: 'action.block', needs: 'reason' },
            { to: 'fixed', label: 'action.fixed' },
        ];
    if (status === 'blocked') return [{ to: 'in_progress', label: 'action.unblock' }];
    return [];
}

async function move(pointId, body) {
    try {
        await api.post(`/v1/points/${pointId}/transitions`, body);
        toast(t('action.done'), 'ok');
        if (app.mapApi) app.mapApi.refreshPoints();
        return true;
    } catch (e) {
        toast(`${t('action.failed')}: ${e.message}`, 'error');
        return false;
    }
}

function todayPlus(days) {
    const d = new Date(Date.now() + days * 86400000);
    return d.toISOString().slice(0, 10);
}

/* Buttons for the moves, each opening a small form when it needs more. */
function actionBar(pointId, moves, after) {
    const bar = el('div', { class: 'actions', dataset: { point: pointId } });
    const extra = el('div', { class: 'action-form' });
    for (const m of moves) {
        bar.append(
            el('button', {
                type: 'button',
                class: 'small',
                dataset: { to: m.to },
                text: t(m.label),
                onclick: async (ev) => {
                    ev.stopPropagation();
                    if (!m.needs) {
                        if (await move(pointId, { to: m.to })) after();
                        return;
                    }
                    fill(extra, moveForm(pointId, m, after));
                },
            })
        );
    }
    return el('div', { class: 'action-wrap', onclick: (ev) => ev.stopPropagation() }, bar, extra);
}

function moveForm(pointId, m, after) {
    const f = el('form', { class: 'move-form', dataset: { to: m.to } });
    if (m.needs === 'reason') {
        const sel = el(
            'select',
            { name: 'reason' },
            ['no_power', 'site_permit', 'terrain', 'investment', 'other'].map((r) => el('option', { value: r, text: t('reason.' + r) }))
        );
        f.append(el('label', { class: 'field' }, el('span', { text: t('action.reason') }), sel));
    } else if (m.needs === 'text') {
        f.append(
            el('label', { class: 'field' }, el('span', { text: t('action.reason') }), el('input', { name: 'reason', required: true, maxlength: 200, value: 'not_dead_zone' }))
        );
    } else if (m.needs === 'assign') {
        const box = el('fieldset', { class: 'choices' }, el('legend', { text: t('report.carriers') }));
        for (const c of app.carriers) box.append(el('label', {}, el('input', { type: 'checkbox', name: 'carriers', value: c.code }), ' ' + c.name));
        f.append(box, el('label', { class: 'field' }, el('span', { text: t('action.due') }), el('input', { name: 'due', type: 'date', required: true, value: todayPlus(30) })));
    }
    f.append(
        el('label', { class: 'field' }, el('span', { text: t('action.note') }), el('input', { name: 'note', maxlength: 4000 })),
        el('button', { type: 'submit', class: 'primary small', text: t(m.label) })
    );
    f.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const body = { to: m.to };
        if (f.reason) body.reason = f.reason.value;
        if (f.note && f.note.value.trim()) body.note = f.note.value.trim();
        if (m.needs === 'assign') {
            body.carriers = [...f.querySelectorAll('input[name=carriers]:checked')].map((x) => x.value);
            body.due = f.due.value;
        }
        if (await move(pointId, body)) after();
    });
    return f;
}

/* ----------------------------------------------------------- carrier */

function assignmentItem(a) {
    return el(
        'li',
        {
            class: `assignment clickable${a.overdue ? ' overdue' : ''}`,
            dataset: { point: a.point_id, assignment: a.id, status: a.status, carrier: a.carrier },
            onclick: () => {
                if (app.mapApi && a.lon !== null) app.mapApi.flyTo(Number(a.lon), Number(a.lat), 13);
                showPoint(a.point_id);
            },
        },
        el('div', { class: 'line1' }, chip(a.status), ' ', el('strong', { text: `${t('common.point')} #${a.point_id}` }), ` · ${a.technology || ''} · ${provinceName(a.province_code)}`),
        el(
            'div',
            { class: 'line2' },
            el('span', { class: a.overdue ? 'due overdue' : 'due' }, `${t('work.due')}: ${fmtDate(a.due_date)}`),
            a.overdue ? el('span', { class: 'badge refused', text: t('work.overdue') }) : null,
            a.blocked_reason ? el('span', { class: 'muted', text: ` · ${t('reason.' + a.blocked_reason)}` }) : null
        ),
        actionBar(a.point_id, assignmentMoves(a.status), () => app.view && app.view())
    );
}

async function renderCarrier() {
    const p = panel();
    const box = el('section', { id: 'work' }, el('h2', { text: t('work.title') }), el('p', { class: 'muted', text: t('common.loading') }));
    fill(p, box);
    app.view = renderCarrier;
    let list;
    try {
        list = (await api.get('/v1/assignments')).assignments;
    } catch (e) {
        fill(box, el('h2', { text: t('work.title') }), errorBox(e));
        return;
    }
    if (app.view !== renderCarrier || app.detail) return;
    // The first time, the map shows where the work is.
    if (!app.fitted && list.length && app.mapApi) {
        app.fitted = true;
        app.mapApi.fitGeometry({ type: 'MultiPoint', coordinates: list.map((a) => [Number(a.lon), Number(a.lat)]) }, 12);
    }
    fill(box, 
        el('h2', {}, t('work.title'), ' ', el('span', { class: 'count', text: `(${list.length})` })),
        list.length ? el('ul', { id: 'work-list', class: 'list' }, list.map(assignmentItem)) : el('p', { class: 'muted', text: t('work.empty') })
    );
}

/* ----------------------------------------------------------- utility */

async function renderUtility() {
    const p = panel();
    const box = el('section', { id: 'utility' }, el('h2', { text: t('points.title') }), el('p', { class: 'muted', text: t('common.loading') }));
    fill(p, box);
    app.view = renderUtility;
    let pts;
    try {
        pts = await api.getAll('/v1/points?status=blocked&limit=1000', 'features', 10);
    } catch (e) {
        fill(box, el('h2', { text: t('points.title') }), errorBox(e));
        return;
    }
    if (app.view !== renderUtility || app.detail) return;
    fill(box, 
        el('h2', { text: t('points.title') }),
        el(
            'ul',
            { class: 'list' },
            pts.map((f) =>
                el(
                    'li',
                    { class: 'clickable', dataset: { point: f.properties.id }, onclick: () => showPoint(f.properties.id) },
                    el('div', { class: 'line1' }, chip(f.properties.status), ' ', el('strong', { text: `#${f.properties.id}` }), ` · ${provinceName(f.properties.province_code)}`),
                    actionBar(f.properties.id, movesFor(f.properties), () => app.view && app.view())
                )
            )
        )
    );
}

/* ---------------------------------------------------------- ministry */

const SERIES = [
    ['verified', STATUS_COLORS.verified],
    ['fixed_not_verified', STATUS_COLORS.fixed],
    ['in_progress', STATUS_COLORS.in_progress],
    ['blocked', STATUS_COLORS.blocked],
    ['awaiting_triage', STATUS_COLORS.reported],
    ['rejected', STATUS_COLORS.rejected],
];

/* A horizontal stacked bar chart: one bar per row, one segment per series. */
function stackedChart(id, rows, labelOf) {
    const rowH = 20;
    const labelW = 130;
    const W = 360;
    const max = Math.max(1, ...rows.map((r) => r.received || 0));
    const chart = svg('svg', {
        id,
        class: 'chart',
        viewBox: `0 0 ${W} ${rows.length * rowH + 4}`,
        role: 'img',
    });
    rows.forEach((r, i) => {
        const y = i * rowH + 2;
        const g = svg('g', { 'data-key': r.key === null ? '' : r.key });
        g.append(svg('text', { x: labelW - 4, y: y + 13, 'text-anchor': 'end', class: 'chart-label' }, labelOf(r)));
        let x = labelW;
        for (const [k, color] of SERIES) {
            const v = r[k] || 0;
            if (!v) continue;
            const w = ((W - labelW - 34) * v) / max;
            g.append(svg('rect', { x, y: y + 2, width: Math.max(w, 1), height: rowH - 6, fill: color }, svg('title', {}, `${t('dash.' + k)}: ${v}`)));
            x += w;
        }
        g.append(svg('text', { x: x + 3, y: y + 13, class: 'chart-value' }, String(r.received || 0)));
        chart.append(g);
    });
    return chart;
}

function chartLegend() {
    return el(
        'ul',
        { class: 'chart-legend' },
        SERIES.map(([k, color]) => {
            const sw = el('span', { class: 'swatch' });
            sw.style.background = color;
            return el('li', {}, sw, t('dash.' + k));
        })
    );
}

function reasonChart(byReason) {
    const reasons = ['no_power', 'site_permit', 'terrain', 'investment', 'other'];
    const max = Math.max(1, ...reasons.map((r) => byReason[r] || 0));
    return el(
        'ul',
        { id: 'by-reason', class: 'reason-bars' },
        reasons.map((r) => {
            const bar = el('span', { class: 'bar' });
            bar.style.width = `${(100 * (byReason[r] || 0)) / max}%`;
            return el('li', { dataset: { reason: r } }, el('span', { class: 'lab', text: t('reason.' + r) }), el('span', { class: 'track' }, bar), el('span', { class: 'num', dataset: { stat: `blocked_by_reason.${r}` }, text: String(byReason[r] || 0) }));
        })
    );
}

const STAT_KEYS = ['received', 'awaiting_triage', 'in_progress', 'blocked', 'fixed_not_verified', 'verified', 'rejected', 'overdue', 'median_days_to_verified'];

async function downloadLink(path, filename) {
    try {
        await api.download(path, filename);
    } catch (e) {
        toast(`${t('action.failed')}: ${e.message}`, 'error');
    }
}

function downloads() {
    const rows = ['province', 'carrier', 'tech', 'month', 'reason'].map((by) =>
        el(
            'li',
            {},
            `${t('dash.by')} ${t('dash.' + by)}: `,
            ['csv', 'xlsx'].map((fmt) =>
                el('button', {
                    type: 'button',
                    class: 'link',
                    dataset: { download: `${by}.${fmt}` },
                    text: t('dash.' + fmt),
                    onclick: () => downloadLink(`/v1/stats/progress?by=${by}&format=${fmt}`, `progress-by-${by}.${fmt}`),
                })
            )
        )
    );
    return el('section', { id: 'downloads' }, el('h3', { text: t('dash.downloads') }), el('ul', { class: 'downloads' }, rows), exportLinks());
}

/* Exports of the data (/v1/export/LAYER.FORMAT) and printable province maps
 * (/v1/maps/CODE.png), when this server has them: found in the OpenAPI
 * document, so the page never links to what does not exist. */
const EXPORTS = [
    ['dash.export.points', 'points', ['xlsx', 'csv', 'geojson', 'gpkg', 'kml', 'shp.zip'], ''],
    ['dash.export.overdue', 'points', ['xlsx', 'csv'], '?overdue=true'],
    ['dash.export.reports', 'reports', ['xlsx', 'csv', 'geojson'], ''],
    ['dash.export.coverage', 'coverage', ['gpkg', 'geojson'], ''],
];

function exportLinks() {
    const box = el('div', { id: 'exports' });
    fetch('/openapi.json')
        .then((r) => (r.ok ? r.json() : null))
        .then((doc) => {
            const paths = (doc && doc.paths) || {};
            if (paths['/v1/export/{name}']) {
                box.append(
                    el('h4', { text: t('dash.exports') }),
                    el(
                        'ul',
                        { class: 'downloads' },
                        EXPORTS.map(([label, layer, formats, query]) =>
                            el(
                                'li',
                                {},
                                `${t(label)}: `,
                                formats.map((fmt) =>
                                    el('button', {
                                        type: 'button',
                                        class: 'link',
                                        dataset: { download: `${layer}.${fmt}${query}` },
                                        text: fmt.toUpperCase(),
                                        onclick: () => downloadLink(`/v1/export/${layer}.${fmt}${query}`, `${layer}${query ? '-overdue' : ''}.${fmt}`),
                                    })
                                )
                            )
                        )
                    )
                );
            }
            if (paths['/v1/maps/{name}']) {
                const sel = el(
                    'select',
                    { name: 'province' },
                    Object.entries(app.provinces)
                        .sort((a, b) => a[0].localeCompare(b[0]))
                        .map(([code, name]) => el('option', { value: code, text: `${code} ${name}` }))
                );
                box.append(
                    el('h4', { text: t('dash.maps') }),
                    el(
                        'p',
                        {},
                        sel,
                        ' ',
                        el('button', {
                            type: 'button',
                            class: 'link',
                            text: 'PNG',
                            onclick: () => downloadLink(`/v1/maps/${sel.value}.png?layer=coverage,points`, `lomsong-${sel.value}.png`),
                        })
                    )
                );
            }
        })
        .catch(() => {});
    return box;
}

async function renderMinistry() {
    const p = panel();
    const box = el('section', { id: 'dashboard' }, el('h2', { text: t('dash.title') }), el('p', { class: 'muted', text: t('common.loading') }));
    fill(p, box);
    app.view = renderMinistry;
    let summary, byProvince, byCarrier, overdue;
    try {
        [summary, byProvince, byCarrier, overdue] = await Promise.all([
            api.get('/v1/stats/summary'),
            api.get('/v1/stats/progress?by=province'),
            api.get('/v1/stats/progress?by=carrier'),
            api.get('/v1/points?overdue=true&limit=1000'),
        ]);
    } catch (e) {
        fill(box, el('h2', { text: t('dash.title') }), errorBox(e));
        return;
    }
    if (app.view !== renderMinistry || app.detail) return;
    const cards = el(
        'div',
        { id: 'totals', class: 'cards' },
        STAT_KEYS.map((k) =>
            el(
                'div',
                { class: `card ${k}`, dataset: { statCard: k } },
                el('span', { class: 'num', dataset: { stat: k }, text: summary[k] === null ? '—' : String(summary[k]) }),
                el('span', { class: 'lab', text: t('dash.' + k) })
            )
        )
    );
    const provRows = [...byProvince.rows].sort((a, b) => b.received - a.received);
    const carRows = [...byCarrier.rows].sort((a, b) => b.received - a.received);
    const OVERDUE_SHOWN = 15;
    const overdueItem = (f) =>
                  el(
                      'li',
                      { class: 'clickable overdue', dataset: { point: f.properties.id }, onclick: () => showPoint(f.properties.id) },
                      el('div', { class: 'line1' }, chip(f.properties.status), ' ', el('strong', { text: `#${f.properties.id}` }), ` · ${provinceName(f.properties.province_code)} · ${f.properties.technology}`),
                      el('div', { class: 'line2 muted' }, `${t('work.due')}: ${fmtDate(f.properties.due_date)} · ${(f.properties.carriers || []).map(carrierName).join(', ')}`)
                  );
    // The most overdue first; a long list opens on demand (phones).
    const late = [...overdue.features].sort((a, b) => (a.properties.due_date < b.properties.due_date ? -1 : 1));
    const ul = el('ul', { id: 'overdue-list', class: 'list' }, late.slice(0, OVERDUE_SHOWN).map(overdueItem));
    const more =
        late.length > OVERDUE_SHOWN
            ? el('button', {
                  type: 'button',
                  class: 'small',
                  text: `${t('dash.show_all')} (${late.length})`,
                  onclick: (ev) => {
                      fill(ul, late.map(overdueItem));
                      ev.target.remove();
                  },
              })
            : null;
    const overdueList = late.length ? el('div', {}, ul, more) : el('p', { class: 'muted', text: t('dash.no_overdue') });
    fill(box, 
        el('h2', { text: t('dash.title') }),
        cards,
        el('section', { class: 'chart-box' }, el('h3', { text: t('dash.by_province') }), chartLegend(), stackedChart('chart-province', provRows, (r) => (r.name || r.key || '').replace(/^(Tỉnh|Thành phố) /, ''))),
        el('section', { class: 'chart-box' }, el('h3', { text: t('dash.by_carrier') }), stackedChart('chart-carrier', carRows, (r) => (r.key ? r.name || r.key : t('dash.unassigned')))),
        el('section', { class: 'chart-box' }, el('h3', { text: t('dash.by_reason') }), reasonChart(summary.blocked_by_reason || {})),
        el('section', {}, el('h3', {}, t('dash.overdue_list'), ' ', el('span', { class: 'count', text: `(${overdue.features.length})` })), overdueList),
        downloads()
    );
}

/* ------------------------------------------------------ point detail */

function eventItem(e) {
    const who = t('actor.' + (e.actor_role || 'system'));
    let what;
    if (e.kind === 'report') what = `${t('event.report')}: ${t('status.' + e.to_status)}`;
    else if (e.kind === 'dispute') what = t('event.dispute');
    else what = `${e.from_status ? t('status.' + e.from_status) + ' → ' : ''}${t('status.' + e.to_status)}`;
    const ev = e.data && typeof e.data.tests === 'number' ? e.data : null;
    return el(
        'li',
        { class: 'event', dataset: { kind: e.kind, to: e.to_status || '' } },
        el('span', { class: 'dot' }),
        el('div', { class: 'when muted', text: fmtDate(e.at, true) }),
        el('div', { class: 'what' }, el('strong', { text: what }), ` · ${who}${e.carrier ? ' · ' + carrierName(e.carrier) : ''}`),
        e.reason ? el('div', { class: 'muted', text: `${t('action.reason')}: ${t('reason.' + e.reason)}` }) : null,
        e.note ? el('div', { class: 'note', text: e.note }) : null,
        ev
            ? el('div', { class: 'evidence-line' }, `${ev.tests} ${t('point.tests')}, ${ev.days} ${t('point.days')}, ${ev.meeting_min} ${t('point.meeting')}`)
            : null
    );
}

function coverageTable(res) {
    if (!res || !res.results || !res.results.length) return el('p', { class: 'muted', text: t('point.evidence.none') });
    const head = el('tr', {}, [t('legend.carrier'), t('point.technology'), t('point.tests'), t('point.share'), t('point.p10'), t('point.p50'), t('point.last')].map((h) => el('th', { text: h })));
    const rows = res.results.map((r) => {
        const e = r.evidence;
        const cls = e.status === 'no_service' ? 'none' : e.status;
        const sw = el('span', { class: 'swatch' });
        sw.style.background = CLASS_COLORS[cls] || '#999';
        return el(
            'tr',
            { dataset: { carrier: r.carrier, status: e.status } },
            el('td', {}, sw, carrierName(r.carrier)),
            el('td', { text: r.technology }),
            el('td', { text: fmtNum(e.tests) }),
            el('td', { text: `${fmtNum(100 * e.share_meeting, 0)} %` }),
            el('td', { text: `${fmtNum(e.p10_download, 1)} Mbps` }),
            el('td', { text: `${fmtNum(e.p50_download, 1)} Mbps` }),
            el('td', { text: fmtDate(e.last_measured) })
        );
    });
    return el('table', { class: 'evidence' }, el('thead', {}, head), el('tbody', {}, rows));
}

async function showPoint(id) {
    app.detail = id;
    const p = panel();
    const back = el('button', {
        type: 'button',
        class: 'link back',
        text: t('point.back'),
        onclick: () => {
            app.detail = null;
            if (app.view) app.view();
        },
    });
    const box = el('section', { id: 'point-detail', dataset: { point: id } }, back, el('h2', { text: `${t('point.title')} #${id}` }), el('p', { class: 'muted', text: t('common.loading') }));
    fill(p, box);
    p.scrollTop = 0;
    let f, cov;
    try {
        f = await api.get(`/v1/points/${id}`);
    } catch (e) {
        fill(box, back, el('h2', { text: `${t('point.title')} #${id}` }), errorBox(e));
        return;
    }
    if (app.detail !== id) return;
    const pr = f.properties;
    const [lon, lat] = f.geometry ? f.geometry.coordinates : [null, null];
    // Bring the point into view when it is not (opened from a list).
    if (app.mapApi && lat !== null && !app.mapApi.map.getBounds().contains([lon, lat])) app.mapApi.flyTo(lon, lat, 12);
    try {
        cov = lat === null ? null : await api.get(`/v1/coverage/at?lat=${lat}&lon=${lon}&tech=${encodeURIComponent(pr.technology)}`);
    } catch {
        cov = null;
    }
    if (app.detail !== id) return;
    const facts = [
        ['point.status', chip(pr.status)],
        ['point.technology', pr.technology],
        ['point.province', provinceName(pr.province_code)],
        ['point.reports', fmtNum(pr.report_count)],
        ['point.people', fmtNum(pr.people_affected)],
        ['point.due', pr.due_date ? fmtDate(pr.due_date) + (pr.overdue ? ` (${t('work.overdue')})` : '') : '—'],
        ['point.carriers', (pr.carriers || []).map(carrierName).join(', ') || '—'],
    ];
    if (pr.blocked_reason) facts.push(['action.reason', t('reason.' + pr.blocked_reason)]);
    if (pr.disputed) facts.push(['status.disputed', t('common.yes')]);
    const refresh = () => showPoint(id);
    const moves = movesFor(pr);
    const systemEvidence = (pr.events || []).filter((e) => e.data && typeof e.data.tests === 'number');
    fill(box, 
        back,
        el('h2', { text: `${t('point.title')} #${id}` }),
        el('dl', { class: 'facts' }, facts.map(([k, v]) => [el('dt', { text: t(k) }), el('dd', {}, v)])),
        moves.length ? actionBar(id, moves, refresh) : null,
        app.me && app.me.role === 'locality' && lat !== null
            ? el('button', { type: 'button', class: 'small', text: t('point.report_here'), onclick: () => openReportForm({ lat, lng: lon }) })
            : null,
        el('h3', { text: t('point.history') }),
        el('ol', { id: 'timeline', class: 'timeline' }, (pr.events || []).map(eventItem)),
        el('h3', { text: t('point.evidence') }),
        systemEvidence.length
            ? el('ul', { class: 'list' }, systemEvidence.map((e) => el('li', {}, `${fmtDate(e.at, true)}: ${t('status.' + e.to_status)} — ${e.data.tests} ${t('point.tests')}, ${e.data.days} ${t('point.days')}, ${e.data.meeting_min} ${t('point.meeting')}`)))
            : null,
        el('h4', { text: t('point.coverage_here') }),
        coverageTable(cov),
        el('h3', { text: t('point.reports_list') }),
        el(
            'ul',
            { class: 'list' },
            (pr.reports || []).map((r) => el('li', { dataset: { report: r.id } }, el('strong', { text: r.place || `#${r.id}` }), ` · ${t('symptom.' + r.symptom)} · ${(r.carriers || []).map(carrierName).join(', ')} · ${fmtDate(r.created_at, true)}`))
        )
    );
}

/* -------------------------------------------------------------- boot */

async function loadReference() {
    const c = cached('lomsong.carriers');
    if (c) app.carriers = c;
    const pv = cached('lomsong.provinces');
    if (pv) app.provinces = pv;
    try {
        const [cs, units] = await Promise.all([api.get('/v1/carriers'), api.get('/v1/units?level=province&geometry=none')]);
        app.carriers = cs.carriers.map((x) => ({ code: x.code, name: x.name }));
        app.provinces = {};
        for (const f of units.features) app.provinces[f.properties.code] = f.properties.name;
        cached('lomsong.carriers', app.carriers);
        cached('lomsong.provinces', app.provinces);
    } catch {
        /* offline: the saved or built-in lists */
    }
}

async function identify() {
    if (!api.getToken()) return null;
    try {
        const me = await api.get('/v1/me');
        api.saveMe(me);
        return me;
    } catch (e) {
        if (e.status === 401) {
            api.setToken(null);
            return { error: t('signin.bad') };
        }
        // No answer (offline, server away): the account seen last time.
        const me = api.savedMe();
        return me || null;
    }
}

function registerServiceWorker() {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((e) => console.warn('service worker:', e.message));
}

function renderRole() {
    app.detail = null;
    switch (app.me.role) {
        case 'locality':
            return renderLocality();
        case 'carrier':
            return renderCarrier();
        case 'ministry':
            return renderMinistry();
        case 'utility':
            return renderUtility();
        default:
            fill(panel(), el('p', { class: 'muted', text: t('map.hint.public') }));
            app.view = () => fill(panel(), el('p', { class: 'muted', text: t('map.hint.public') }));
            return null;
    }
}

async function boot() {
    prewarm();
    initLang();
    setNet();
    registerServiceWorker();
    $('#lang').addEventListener('click', () => setLang(getLang() === 'vi' ? 'en' : 'vi'));
    $('#signout').addEventListener('click', async () => {
        api.setToken(null);
        try {
            localStorage.removeItem('lomsong.mine');
        } catch {
            /* nothing saved */
        }
        location.reload();
    });
    $('#report-form').addEventListener('submit', submitReport);
    $('#report-cancel').addEventListener('click', closeReportForm);
    window.addEventListener('offline', () => {
        setNet();
        if (app.view && !app.detail && app.me && app.me.role === 'locality') app.view();
    });
    window.addEventListener('online', () => {
        setNet();
        flushOutbox().catch((e) => console.warn('outbox:', e));
    });
    outbox.onChange(() => {
        const box = $('#outbox');
        if (box) renderOutbox(box);
    });

    const [who] = await Promise.all([identify(), loadReference()]);
    const signInError = who && who.error ? who.error : null;
    app.me = who && !who.error ? who : null;
    renderWho();

    const role = app.me ? app.me.role : 'public';
    const withPoints = ['ministry', 'locality', 'carrier', 'utility'].includes(role);
    app.mapApi = createMap($('#map'), {
        withPoints,
        onPoint: (id) => showPoint(id),
        onClick: (ll) => {
            if (app.me && app.me.role === 'locality') openReportForm(ll);
        },
    });
    const legend = () =>
        renderLegend($('#legend'), app.mapApi, {
            withPoints,
            carriers: app.carriers,
            onFilter: (f) => app.mapApi.setCoverageFilter(f),
        });
    legend();
    if (window.matchMedia('(max-width: 800px)').matches) $('#legend-box').open = false;

    // A locality starts on its own area.
    if (app.me && app.me.unit && app.me.unit.province_code) {
        api.get(`/v1/units/${app.me.unit.province_code}?geometry=simplified`)
            .then((u) => app.mapApi.fitGeometry(u.geometry))
            .catch(() => {});
    }

    onLangChange(() => {
        setNet();
        renderWho();
        legend();
        if (app.detail) showPoint(app.detail);
        else if (app.view) app.view();
    });

    if (app.me) await renderRole();
    else renderSignIn(signInError);
    apply();

    if (app.me && app.me.role === 'locality') await flushOutbox().catch((e) => console.warn('outbox:', e));

    window.lomsong.ready = true;
}

window.lomsong = {
    app,
    outbox,
    flush: flushOutbox,
    showPoint,
    openReportForm,
    ready: false,
    get map() {
        return app.mapApi ? app.mapApi.map : null;
    },
};

boot().catch((e) => {
    console.error('lomsong: the page could not start:', e);
});

