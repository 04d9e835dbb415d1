// map.js — the MapLibre map: a style built here with no external source
// (no basemap, no glyph or sprite server), the province boundaries as the
// base, coverage cells coloured by class, dead-zone points coloured by
// status (clusters with counts at low zoom), and the legend.
//
// Every tile comes from this server, /tiles/{layer}/{z}/{x}/{y}.mvt, with
// the token added by transformRequest.  Labels (province names, cluster
// counts) are symbol layers: with no `glyphs` URL in the style MapLibre
// draws the glyphs itself from the device's fonts, so they work offline.

import * as maplibregl from './maplibre-gl.mjs';
import { getToken } from './api.js';
import { t, onLangChange } from './i18n.js';

export const STATUS_COLORS = {
    reported: '#d7301f',
    triaged: '#fc8d59',
    assigned: '#fdae61',
    in_progress: '#2c7fb8',
    blocked: '#7b3294',
    fixed: '#66bd63',
    verified: '#1a9850',
    rejected: '#969696',
    reopened: '#e31a1c',
    merged: '#bdbdbd',
};

export const CLASS_COLORS = { meets: '#1a9850', below: '#f39c12', none: '#c0392b' };

const VIETNAM = [
    [102.14, 8.18],
    [109.47, 23.39],
];

function tileUrl(layer, query) {
    const q = query ? `?${query}` : '';
    return `${location.origin}/tiles/${layer}/{z}/{x}/{y}.mvt${q}`;
}

function coverageQuery(filter) {
    const p = new URLSearchParams();
    if (filter.carrier) p.set('carrier', filter.carrier);
    if (filter.tech) p.set('tech', filter.tech);
    return p.toString();
}

function statusColor() {
    const m = ['match', ['get', 'status']];
    for (const [k, v] of Object.entries(STATUS_COLORS)) m.push(k, v);
    m.push('#555555');
    return m;
}

/* The style: background, units, coverage, points (when the role may see
 * them), labels on top. */
function buildStyle(withPoints, coverageFilter) {
    const sources = {
        units: { type: 'vector', tiles: [tileUrl('units')], minzoom: 0, maxzoom: 12 },
        coverage: {
            type: 'vector',
            tiles: [tileUrl('coverage', coverageQuery(coverageFilter))],
            minzoom: 0,
            maxzoom: 16,
        },
    };
    const layers = [
        { id: 'background', type: 'background', paint: { 'background-color': '#dbe7ef' } },
        {
            id: 'units-fill',
            type: 'fill',
            source: 'units',
            'source-layer': 'units',
            paint: { 'fill-color': '#f6f4ee', 'fill-opacity': 1 },
        },
        {
            id: 'coverage-fill',
            type: 'fill',
            source: 'coverage',
            'source-layer': 'coverage',
            paint: {
                'fill-color': [
                    'match',
                    ['get', 'class'],
                    'meets',
                    CLASS_COLORS.meets,
                    'below',
                    CLASS_COLORS.below,
                    'none',
                    CLASS_COLORS.none,
                    '#999999',
                ],
                'fill-opacity': 0.5,
            },
        },
        {
            id: 'units-line',
            type: 'line',
            source: 'units',
            'source-layer': 'units',
            paint: {
                'line-color': '#7a7a7a',
                'line-width': ['interpolate', ['linear'], ['zoom'], 4, 0.6, 10, 1.6],
            },
        },
    ];
    if (withPoints) {
        sources.points = { type: 'vector', tiles: [tileUrl('points')], minzoom: 0, maxzoom: 16 };
        layers.push(
            {
                id: 'points-cluster',
                type: 'circle',
                source: 'points',
                'source-layer': 'points',
                filter: ['>', ['coalesce', ['get', 'count'], 1], 1],
                paint: {
                    'circle-color': '#37474f',
                    'circle-opacity': 0.85,
                    'circle-radius': ['interpolate', ['linear'], ['get', 'count'], 2, 9, 50, 16, 500, 24],
                    'circle-stroke-color': '#ffffff',
                    'circle-stroke-width': 1.5,
                },
            },
            {
                id: 'points-cluster-count',
                type: 'symbol',
                source: 'points',
                'source-layer': 'points',
                filter: ['>', ['coalesce', ['get', 'count'], 1], 1],
                layout: {
                    'text-field': ['to-string', ['get', 'count']],
                    'text-font': ['sans-serif'],
                    'text-size': 11,
                    'text-allow-overlap': true,
                },
                paint: { 'text-color': '#ffffff' },
            },
            {
                id: 'points-circle',
                type: 'circle',
                source: 'points',
                'source-layer': 'points',
                filter: ['<=', ['coalesce', ['get', 'count'], 1], 1],
                paint: {
                    'circle-color': statusColor(),
                    'circle-radius': ['interpolate', ['linear'], ['zoom'], 5, 4, 12, 7, 16, 10],
                    'circle-stroke-color': ['case', ['to-boolean', ['get', 'overdue']], '#000000', '#ffffff'],
                    'circle-stroke-width': ['case', ['to-boolean', ['get', 'overdue']], 2.5, 1.5],
                },
            }
        );
    }
    layers.push({
        id: 'unit-labels',
        type: 'symbol',
        source: 'units',
        'source-layer': 'unit_labels',
        minzoom: 5,
        layout: {
            'text-field': ['get', 'name'],
            'text-font': ['sans-serif'],
            'text-size': ['interpolate', ['linear'], ['zoom'], 5, 10, 10, 14],
            'text-max-width': 8,
        },
        paint: { 'text-color': '#37474f', 'text-halo-color': '#ffffff', 'text-halo-width': 1.2 },
    });
    return { version: 8, name: 'lomsong', sources, layers };
}

/* Starts MapLibre's workers now (their script is the largest file after
 * MapLibre itself), while the page still asks who is signed in. */
export function prewarm() {
    maplibregl.prewarm();
}

/* Only this server's tiles get the token. */
function transformRequest(url) {
    const tok = getToken();
    if (tok && url.startsWith(`${location.origin}/tiles/`))
        return { url, headers: { Authorization: `Bearer ${tok}` } };
    return { url };
}

/* Creates the map in `container`.  handlers: {onPoint(id, feature),
 * onClick(lngLat)}.  Gives an object to drive it. */
export function createMap(container, { withPoints, onPoint, onClick }) {
    const state = { coverage: { carrier: '', tech: '' }, withPoints };
    const map = new maplibregl.Map({
        container,
        style: buildStyle(withPoints, state.coverage),
        bounds: VIETNAM,
        fitBoundsOptions: { padding: 10 },
        maxBounds: [
            [95, 4],
            [117, 27],
        ],
        transformRequest,
        attributionControl: false,
        dragRotate: false,
        pitchWithRotate: false,
        cooperativeGestures: false,
    });
    map.touchZoomRotate.disableRotation();
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');

    // Tile errors while offline are expected (the service worker answers
    // what it can); anything else is a real error and is reported.
    map.on('error', (e) => {
        if (!navigator.onLine) return;
        const err = e && e.error;
        console.error('map:', err && err.message ? err.message : err);
    });

    const hover = new maplibregl.Popup({ closeButton: false, closeOnClick: false, className: 'hover-popup' });
    const pointLayers = () => (state.withPoints ? ['points-circle', 'points-cluster'] : []);

    map.on('mousemove', (e) => {
        const layers = [...pointLayers(), 'units-fill'].filter((l) => map.getLayer(l));
        const f = layers.length ? map.queryRenderedFeatures(e.point, { layers })[0] : null;
        if (!f) {
            hover.remove();
            map.getCanvas().style.cursor = '';
            return;
        }
        let text;
        if (f.layer.id === 'points-cluster') text = `${f.properties.count} ${t('legend.points').toLowerCase()}`;
        else if (f.layer.id === 'points-circle')
            text = `${t('common.point')} #${f.properties.id} — ${t('status.' + f.properties.status)}`;
        else text = f.properties.name || f.properties.code || '';
        map.getCanvas().style.cursor = f.layer.id.startsWith('points') ? 'pointer' : 'crosshair';
        hover.setLngLat(e.lngLat).setText(text).addTo(map);
    });
    map.on('mouseout', () => hover.remove());

    map.on('click', (e) => {
        const layers = pointLayers().filter((l) => map.getLayer(l));
        const f = layers.length
            ? map.queryRenderedFeatures(
                  [
                      [e.point.x - 6, e.point.y - 6],
                      [e.point.x + 6, e.point.y + 6],
                  ],
                  { layers }
              )[0]
            : null;
        if (f && f.layer.id === 'points-cluster') {
            map.easeTo({ center: e.lngLat, zoom: Math.min(map.getZoom() + 2, 16) });
            return;
        }
        if (f && f.properties.id !== undefined && onPoint) {
            onPoint(Number(f.properties.id), f);
            return;
        }
        if (onClick) onClick(e.lngLat);
    });

    const api = {
        map,
        /* New tiles for the points (after a report or a move): setting the
         * tiles again drops the loaded ones and fetches them anew. */
        refreshPoints() {
            const s = map.getSource('points');
            if (s && s.setTiles) s.setTiles([tileUrl('points')]);
        },
        setCoverageFilter(filter) {
            Object.assign(state.coverage, filter);
            const s = map.getSource('coverage');
            if (s && s.setTiles) s.setTiles([tileUrl('coverage', coverageQuery(state.coverage))]);
        },
        setVisible(group, on) {
            const ids = {
                coverage: ['coverage-fill'],
                points: ['points-circle', 'points-cluster', 'points-cluster-count'],
                units: ['units-line', 'unit-labels'],
            }[group];
            for (const id of ids || [])
                if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
        },
        fitGeometry(geom, maxZoom = 14) {
            const b = bboxOf(geom);
            if (b) map.fitBounds(b, { padding: 40, duration: 0, maxZoom });
        },
        flyTo(lon, lat, zoom = 13) {
            map.flyTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), zoom) });
        },
    };
    onLangChange(() => hover.remove());
    return api;
}

/* [[minlon, minlat], [maxlon, maxlat]] of a GeoJSON geometry, or null. */
export function bboxOf(geom) {
    if (!geom) return null;
    let minx = Infinity,
        miny = Infinity,
        maxx = -Infinity,
        maxy = -Infinity;
    const walk = (c) => {
        if (typeof c[0] === 'number') {
            minx = Math.min(minx, c[0]);
            maxx = Math.max(maxx, c[0]);
            miny = Math.min(miny, c[1]);
            maxy = Math.max(maxy, c[1]);
        } else c.forEach(walk);
    };
    walk(geom.coordinates);
    return minx <= maxx
        ? [
              [minx, miny],
              [maxx, maxy],
          ]
        : null;
}

/* The legend (and layer switches, coverage filters) into `el`. */
export function renderLegend(el, mapApi, { withPoints, carriers, onFilter }) {
    el.replaceChildren();
    const h = document.createElement('h2');
    h.textContent = t('legend.title');
    el.append(h);

    const section = (key, group, items, circle) => {
        const box = document.createElement('div');
        box.className = 'legend-group';
        const lab = document.createElement('label');
        lab.className = 'legend-head';
        const cb = document.createElement('input');
        cb.type = 'checkbox';
        cb.checked = true;
        cb.dataset.layer = group;
        cb.addEventListener('change', () => mapApi.setVisible(group, cb.checked));
        lab.append(cb, document.createTextNode(' ' + t(key)));
        box.append(lab);
        const ul = document.createElement('ul');
        for (const [label, color, cls] of items) {
            const li = document.createElement('li');
            const sw = document.createElement('span');
            sw.className = circle ? 'swatch circle' : 'swatch';
            sw.style.background = color;
            li.append(sw, document.createTextNode(label));
            if (cls) li.dataset.class = cls;
            ul.append(li);
        }
        box.append(ul);
        el.append(box);
        return box;
    };

    const cov = section(
        'legend.coverage',
        'coverage',
        ['meets', 'below', 'none'].map((c) => [t('class.' + c), CLASS_COLORS[c], c]),
        false
    );
    // Coverage filters: carrier and technology (the tiles take ?carrier=&tech=).
    const filt = document.createElement('div');
    filt.className = 'legend-filters';
    const mk = (labelKey, name, options) => {
        const l = document.createElement('label');
        l.append(document.createTextNode(t(labelKey) + ' '));
        const s = document.createElement('select');
        s.name = name;
        for (const [v, txt] of [['', t('legend.all')], ...options]) {
            const o = document.createElement('option');
            o.value = v;
            o.textContent = txt;
            s.append(o);
        }
        s.addEventListener('change', () => onFilter({ [name]: s.value }));
        l.append(s);
        filt.append(l);
    };
    mk(
        'legend.carrier',
        'carrier',
        (carriers || []).map((c) => [c.code, c.name])
    );
    mk('legend.tech', 'tech', ['3G', '4G', '5G'].map((x) => [x, x]));
    cov.append(filt);

    if (withPoints) {
        const items = ['reported', 'triaged', 'assigned', 'in_progress', 'blocked', 'fixed', 'verified', 'reopened'].map(
            (s) => [t('status.' + s), STATUS_COLORS[s], s]
        );
        items.push([t('legend.cluster'), '#37474f', 'cluster']);
        section('legend.points', 'points', items, true);
    }
    section('legend.units', 'units', [], false);
}
