#!/usr/bin/env bash
# tools/bench/web.sh — how fast the web page is served (api/h_web.c), and
# how long the page takes to be usable in Debian's chromium.
#
# Starts the optimised server (`make` first; the dev cluster is used when it
# runs, but the page's files need no database), sends N sequential requests
# per file over loopback (curl, new connection each time), prints
# p50/p99/max in ms; then, when chromium and playwright-core are installed
# (make deps), loads the page N_PAGE times in a fresh browser context (cold:
# empty cache, no service worker) and once more warm (service worker
# installed), and prints the time to the page being ready.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/build/lomsong
N=${N:-300}
N_PAGE=${N_PAGE:-5}
PORT=${PORT:-18198}
"$BIN" serve --listen 127.0.0.1:$PORT --log-level warn >/dev/null 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
until curl -sf -o /dev/null http://127.0.0.1:$PORT/; do sleep 0.05; done

measure() { # label, path, extra curl args...
    local label=$1 path=$2 f; shift 2
    f=$(mktemp)
    for _ in $(seq "$N"); do
        curl -s -o /dev/null -w '%{http_code} %{time_total} %{size_download}\n' "$@" \
            "http://127.0.0.1:$PORT$path" >> "$f"
    done
    if grep -qv '^[23]0[04] ' "$f"; then echo "$label: unexpected answers" >&2; fi
    local size; size=$(awk 'NR==1 {print $3}' "$f")
    awk '{print $2 * 1000}' "$f" | sort -n | awk -v label="$label" -v size="$size" '
        {a[NR] = $1} END {printf "| %s | %s | %.2f | %.2f | %.2f |\n", label, size, a[int(NR * 0.5)],
                          a[int(NR * 0.99)], a[NR]}'
    rm -f "$f"
}
etag=$(curl -s -D - -o /dev/null http://127.0.0.1:$PORT/web/maplibre-gl.mjs -H 'Accept-Encoding: gzip' \
       | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
echo "| request ($N each, sequential) | bytes | p50 ms | p99 ms | max ms |"
echo "|---|---|---|---|---|"
measure "GET / (index.html)" "/"
measure "GET /web/app.js" "/web/app.js"
measure "GET /web/maplibre-gl.mjs" "/web/maplibre-gl.mjs"
measure "GET /web/maplibre-gl.mjs, gzip" "/web/maplibre-gl.mjs" -H 'Accept-Encoding: gzip'
measure "GET /web/maplibre-gl.mjs, If-None-Match (304)" "/web/maplibre-gl.mjs" \
    -H 'Accept-Encoding: gzip' -H "If-None-Match: $etag"
measure "GET /sw.js" "/sw.js"

if [ -x /usr/bin/chromium ] && [ -d "$ROOT/maps/web/node_modules/playwright-core" ]; then
    URL=http://127.0.0.1:$PORT N_PAGE=$N_PAGE node --input-type=module - <<'EOF'
import { chromium } from './maps/web/node_modules/playwright-core/index.mjs';
const args = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'];
if (process.getuid() === 0) args.push('--no-sandbox');
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
const ready = (p) => p.waitForFunction(() => window.lomsong && window.lomsong.ready === true);
const idle = (p) => p.evaluate(() => new Promise((r) => {
    const m = window.lomsong.map; if (m.loaded() && m.areTilesLoaded()) r(); else m.once('idle', r); }));
const cold = [], drawn = [];
let warm = null;
for (let i = 0; i < Number(process.env.N_PAGE); i++) {
    const ctx = await b.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await ctx.newPage();
    let t0 = Date.now();
    await p.goto(process.env.URL + '/');
    await ready(p);
    cold.push(Date.now() - t0);
    await idle(p);
    drawn.push(Date.now() - t0);
    if (i === 0) {
        await p.waitForFunction(() => navigator.serviceWorker.controller !== null);
        t0 = Date.now();
        await p.reload();
        await ready(p);
        warm = Date.now() - t0;
    }
    await ctx.close();
}
await b.close();
const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`\n| page in chromium (signed out, 1280x800, software WebGL) | ms |`);
console.log(`|---|---|`);
console.log(`| cold load to ready, median of ${cold.length} | ${med(cold)} |`);
console.log(`| cold load to map drawn (all tiles of the view), median of ${drawn.length} | ${med(drawn)} |`);
console.log(`| reload with the service worker installed, to ready | ${warm} |`);
EOF
fi
