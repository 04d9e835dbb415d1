// api.js — the page's access to the lomsong HTTP API (same origin): the
// saved token, JSON requests with `Authorization: Bearer`, problem+json
// errors turned into ApiError with the server's detail, and downloads
// (which need the header too, so they go through fetch and a blob).

const TOKEN_KEY = 'lomsong.token';
const ME_KEY = 'lomsong.me';

let token = null;
try {
    token = localStorage.getItem(TOKEN_KEY);
} catch {
    token = null;
}

export class ApiError extends Error {
    constructor(status, detail, body) {
        super(detail || `HTTP ${status}`);
        this.status = status; // 0: no response (offline, connection refused)
        this.body = body;
    }
}

export function getToken() {
    return token;
}

export function setToken(t) {
    token = t || null;
    try {
        if (token) localStorage.setItem(TOKEN_KEY, token);
        else {
            localStorage.removeItem(TOKEN_KEY);
            localStorage.removeItem(ME_KEY);
        }
    } catch {
        /* storage refused: the token lasts for this page only */
    }
}

/* The account last seen by /v1/me (for a page opened offline). */
export function savedMe() {
    try {
        return JSON.parse(localStorage.getItem(ME_KEY) || 'null');
    } catch {
        return null;
    }
}

export function saveMe(me) {
    try {
        localStorage.setItem(ME_KEY, JSON.stringify(me));
    } catch {
        /* not remembered */
    }
}

function headers(extra) {
    const h = { Accept: 'application/json', ...(extra || {}) };
    if (token) h.Authorization = `Bearer ${token}`;
    return h;
}

async function parse(res) {
    const type = res.headers.get('Content-Type') || '';
    const text = await res.text();
    let body = null;
    if (type.includes('json') && text) {
        try {
            body = JSON.parse(text);
        } catch {
            body = null;
        }
    }
    if (!res.ok) throw new ApiError(res.status, body && body.detail ? body.detail : text.slice(0, 200), body);
    return body;
}

/* GET path (JSON).  Throws ApiError; status 0 when nothing answered. */
export async function get(path) {
    let res;
    try {
        res = await fetch(path, { headers: headers(), cache: 'no-store' });
    } catch (e) {
        throw new ApiError(0, e.message);
    }
    return parse(res);
}

/* POST path with a JSON body; extraHeaders e.g. Idempotency-Key.  Gives
 * {status, body} so callers can tell 201 from 200. */
export async function post(path, body, extraHeaders) {
    let res;
    try {
        res = await fetch(path, {
            method: 'POST',
            headers: headers({ 'Content-Type': 'application/json', ...(extraHeaders || {}) }),
            body: JSON.stringify(body),
            cache: 'no-store',
        });
    } catch (e) {
        throw new ApiError(0, e.message);
    }
    const parsed = await parse(res);
    return { status: res.status, body: parsed };
}

/* Every page of a keyset-paged list (the `next` links), up to maxPages. */
export async function getAll(path, key, maxPages = 10) {
    let out = [];
    let next = path;
    for (let i = 0; next && i < maxPages; i++) {
        const page = await get(next);
        out = out.concat(page[key] || []);
        next = page.next;
    }
    return out;
}

/* Downloads path as a file (the bearer header cannot ride on a plain link). */
export async function download(path, filename) {
    let res;
    try {
        res = await fetch(path, { headers: headers({ Accept: '*/*' }), cache: 'no-store' });
    } catch (e) {
        throw new ApiError(0, e.message);
    }
    if (!res.ok) await parse(res);
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
}
