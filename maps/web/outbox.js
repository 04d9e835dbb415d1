// outbox.js — reports made where there is no signal, kept on the device
// (IndexedDB) until the server has them.
//
// Each report gets its Idempotency-Key when it is made, and keeps it for
// every attempt: a retry after a lost answer returns the first report
// instead of filing a second one.  A record leaves the outbox only after a
// 201 (or 200) or a 4xx that is final (the server will never take it: the
// user sees it as refused, with the server's reason, until dismissed).
// No answer, 5xx, 408, 409, 425 and 429 are retried later; 401 waits for a
// valid sign-in.  Sending happens on the `online` event, on page load and
// after each new report; one flush runs at a time.

const DB_NAME = 'lomsong';
const STORE = 'outbox';

let dbPromise = null;

function openDb() {
    if (!dbPromise) {
        dbPromise = new Promise((resolve, reject) => {
            const req = indexedDB.open(DB_NAME, 1);
            req.onupgradeneeded = () => {
                const db = req.result;
                if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'key' });
            };
            req.onsuccess = () => resolve(req.result);
            req.onerror = () => reject(req.error);
        });
    }
    return dbPromise;
}

async function tx(mode, fn) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
        const t = db.transaction(STORE, mode);
        const store = t.objectStore(STORE);
        let result;
        Promise.resolve(fn(store)).then((r) => {
            result = r;
        });
        t.oncomplete = () => resolve(result);
        t.onerror = () => reject(t.error);
        t.onabort = () => reject(t.error);
    });
}

function reqp(r) {
    return new Promise((resolve, reject) => {
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
    });
}

/* A random UUID; crypto.randomUUID needs a secure context, so a page
 * served over plain http on a LAN address builds one itself. */
export function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/* Keeps a report (the POST /v1/reports body) for `account`; gives the record. */
export async function add(report, account) {
    const rec = {
        key: newKey(),
        report,
        account,
        created: new Date().toISOString(),
        state: 'waiting',
        detail: null,
        tries: 0,
    };
    await tx('readwrite', (s) => reqp(s.put(rec)));
    changed();
    return rec;
}

/* Every record, oldest first. */
export async function list() {
    const all = await tx('readonly', (s) => reqp(s.getAll()));
    return (all || []).sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
}

export async function remove(key) {
    await tx('readwrite', (s) => reqp(s.delete(key)));
    changed();
}

async function put(rec) {
    await tx('readwrite', (s) => reqp(s.put(rec)));
}

const watchers = [];

/* fn() is called whenever the outbox changes. */
export function onChange(fn) {
    watchers.push(fn);
}

function changed() {
    for (const fn of watchers) {
        try {
            fn();
        } catch (e) {
            console.warn('outbox watcher', e);
        }
    }
}

/* Statuses that a later attempt may turn into a success. */
function retryable(status) {
    return status === 0 || status >= 500 || [401, 408, 409, 425, 429].includes(status);
}

let running = null;
let again = false;

/* Sends every waiting record of `account` through send(rec) -> {status,
 * detail}.  Concurrent calls share one run (and ask for one more pass). */
export function flush(account, send) {
    if (running) {
        again = true;
        return running;
    }
    running = (async () => {
        let sent = 0;
        do {
            again = false;
            const recs = await list();
            for (const rec of recs) {
                if (rec.state !== 'waiting' || rec.account !== account) continue;
                let r;
                try {
                    r = await send(rec);
                } catch (e) {
                    r = { status: 0, detail: String(e && e.message) };
                }
                if (r.status === 200 || r.status === 201) {
                    await remove(rec.key);
                    sent++;
                } else if (!retryable(r.status)) {
                    rec.state = 'refused';
                    rec.status = r.status;
                    rec.detail = r.detail || `HTTP ${r.status}`;
                    await put(rec);
                    changed();
                } else {
                    rec.tries++;
                    rec.status = r.status;
                    rec.detail = r.detail || null;
                    await put(rec);
                    changed();
                    if (r.status === 0) break; /* still offline: no point trying the others */
                }
            }
        } while (again);
        return sent;
    })();
    const p = running;
    p.finally(() => {
        running = null;
    }).catch(() => {});
    return p;
}
