// sw.js — the service worker: once the page has been visited it loads with
// no network (dead zones are reported from where there is no signal).
//
//   the app shell (page, scripts, styles, MapLibre)   cache first, network
//                                                     fallback; cached whole at install
//   boundary and coverage tiles (public)              network first, cache fallback
//   point tiles (per account)                         network only
//   a tile with no network and no copy               204, the empty tile
//   the API (/v1/...)                                 not touched: the page keeps
//                                                     reports in IndexedDB itself
//
// The server writes a hash of every embedded web file into VERSION, so a
// new build is a new service worker with a new shell cache, and the old
// caches are dropped when it activates.

const VERSION = '__LOMSONG_WEB_VERSION__';
const SHELL_CACHE = `lomsong-shell-${VERSION}`;
const TILE_CACHE = 'lomsong-tiles';
const TILE_CACHE_MAX = 2000;

const SHELL = [
    '/',
    '/web/app.js',
    '/web/api.js',
    '/web/outbox.js',
    '/web/map.js',
    '/web/i18n.js',
    '/web/style.css',
    '/web/icon.svg',
    '/web/manifest.webmanifest',
    '/web/maplibre-gl.mjs',
    '/web/maplibre-gl-worker.mjs',
    '/web/maplibre-gl.css',
];

self.addEventListener('install', (event) => {
    event.waitUntil(
        caches
            .open(SHELL_CACHE)
            .then((c) => c.addAll(SHELL.map((u) => new Request(u, { cache: 'reload' }))))
            .then(() => self.skipWaiting())
    );
});

self.addEventListener('activate', (event) => {
    event.waitUntil(
        caches
            .keys()
            .then((keys) =>
                Promise.all(keys.filter((k) => k.startsWith('lomsong-shell-') && k !== SHELL_CACHE).map((k) => caches.delete(k)))
            )
            .then(() => self.clients.claim())
    );
});

function emptyTile() {
    return new Response(null, { status: 204, statusText: 'No Content' });
}

async function shell(request) {
    const cache = await caches.open(SHELL_CACHE);
    const url = new URL(request.url);
    const key = url.pathname === '/' || url.pathname === '/index.html' ? '/' : request;
    const hit = await cache.match(key, { ignoreSearch: true });
    if (hit) return hit;
    const res = await fetch(request);
    if (res.ok && res.status === 200) cache.put(key, res.clone());
    return res;
}

let puts = 0;

async function trimTiles(cache) {
    const keys = await cache.keys();
    for (let i = 0; i < keys.length - TILE_CACHE_MAX; i++) await cache.delete(keys[i]);
}

async function publicTile(request) {
    const cache = await caches.open(TILE_CACHE);
    try {
        const res = await fetch(request);
        if (res.status === 200) {
            cache.put(request, res.clone());
            if (++puts % 200 === 0) trimTiles(cache);
        }
        return res;
    } catch {
        const hit = await cache.match(request);
        return hit || emptyTile();
    }
}

async function privateTile(request) {
    try {
        return await fetch(request);
    } catch {
        return emptyTile();
    }
}

self.addEventListener('fetch', (event) => {
    const request = event.request;
    if (request.method !== 'GET') return;
    const url = new URL(request.url);
    if (url.origin !== self.location.origin) return;
    const p = url.pathname;
    if (p === '/' || p === '/index.html' || p.startsWith('/web/')) {
        event.respondWith(shell(request));
    } else if (p.startsWith('/tiles/units/') || p.startsWith('/tiles/coverage/')) {
        event.respondWith(publicTile(request));
    } else if (p.startsWith('/tiles/points/')) {
        event.respondWith(privateTile(request));
    }
});
