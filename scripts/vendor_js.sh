#!/bin/sh
# Rebuild rnngraph/draw/static/vendor/ from npm: Graphviz compiled to WebAssembly
# (@hpcc-js/wasm-graphviz, wasm embedded in the .js), turned from an ES module into a
# classic script that sets window.RgGraphviz, so the page can inline it and stay one
# offline file (file:// works; the page's CSP allows 'wasm-unsafe-eval').
# Needs node + npm (Debian: apt-get install -y nodejs npm).  Usage: scripts/vendor_js.sh
set -eu
VERSION="${RG_GRAPHVIZ_VERSION:-1.29.2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/rnngraph/draw/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts "@hpcc-js/wasm-graphviz@$VERSION" >/dev/null
PKG="$WORK/node_modules/@hpcc-js/wasm-graphviz"
mkdir -p "$OUT"
node - "$PKG/dist/index.js" "$OUT/graphviz.js" "$VERSION" <<'JS'
const fs = require("fs");
const [src, dst, version] = process.argv.slice(2);
let text = fs.readFileSync(src, "utf8").replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n");
const m = text.match(/export\{([^}]*)\};?\s*$/);
if (!m) { throw new Error("no ES export list at the end of " + src); }
const names = Object.fromEntries(m[1].split(",").map((p) => p.trim().split(" as ").reverse()));
if (!names.Graphviz) { throw new Error("the module does not export Graphviz"); }
text = text.slice(0, m.index);
// "</script" must not occur in an inline script
text = text.replace(/<\/script/gi, "<\\/script");
const head = `/* @hpcc-js/wasm-graphviz ${version} (Apache-2.0, see LICENSE-hpcc-js-wasm.txt), `
  + "Graphviz (EPL-1.0); vendored by scripts/vendor_js.sh */\n";
fs.writeFileSync(dst, head + "(function(){\n" + text + `\nwindow.RgGraphviz=${names.Graphviz};\n}());\n`);
JS
cp "$PKG/LICENSE" "$OUT/LICENSE-hpcc-js-wasm.txt"
# Graphviz itself (compiled into the wasm) is EPL-1.0; its text comes from Debian's graphviz package.
if [ -f /usr/share/doc/graphviz/copyright ]; then
  sed -n '/Eclipse Public License - v 1.0/,$p' /usr/share/doc/graphviz/copyright \
    | sed 's/^ //; s/^\.$//' > "$OUT/LICENSE-graphviz-EPL-1.0.txt"
fi
echo "$OUT/graphviz.js: @hpcc-js/wasm-graphviz $VERSION"
