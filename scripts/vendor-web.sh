#!/usr/bin/env bash
# Refreshes the front-end files vendored under crates/portal/assets/vendor from the npm
# packages pinned in web/package-lock.json. The portal embeds the committed copies: nothing is
# fetched at build or run time. Run after changing a version in web/package.json.
set -euo pipefail
cd "$(dirname "$0")/.."
(cd web && npm ci --no-audit --no-fund)
out=crates/portal/assets/vendor
bi=web/node_modules/bootstrap-italia
rm -rf "$out/bootstrap-italia"
mkdir -p "$out/bootstrap-italia"/{css,svg,fonts}
# Only the stylesheet: the portal uses no component of Bootstrap Italia's JavaScript, whose
# bundle inserts <style> elements that the CSP (style-src 'self') refuses. The stylesheet's one
# data: font (VideoJS's icons; the portal shows no video) is cut for the same reason (font-src).
node -e '
  const fs = require("fs");
  const [from, to] = process.argv.slice(1);
  const css = fs.readFileSync(from, "utf8");
  const cut = css.replace(/@font-face\{font-family:VideoJS;[^}]*\}/, "");
  if (cut === css) throw new Error("the VideoJS data: font is not where it was: check the CSP by hand");
  fs.writeFileSync(to, cut);
' "$bi/dist/css/bootstrap-italia.min.css" "$out/bootstrap-italia/css/bootstrap-italia.min.css"
cp "$bi/dist/svg/sprites.svg" "$out/bootstrap-italia/svg/"
# Only the woff2 faces: every browser the portal supports reads them.
for family in Titillium_Web Roboto_Mono Lora; do
  mkdir -p "$out/bootstrap-italia/fonts/$family"
  cp "$bi/dist/fonts/$family/"*.woff2 "$out/bootstrap-italia/fonts/$family/"
done
cp "$bi/LICENSE" "$out/bootstrap-italia/LICENSE"
version=$(node -p "require('./$bi/package.json').version")
printf 'bootstrap-italia %s (npm, BSD-3-Clause; fonts OFL-1.1)\n' "$version" > "$out/bootstrap-italia/VERSION"
# The age implementation and the hashes/curves the receipt check uses, bundled into one
# ES module each (esbuild), so the portal loads them from 'self' under its CSP.
if [ -f web/src/age-entry.js ]; then
  mkdir -p "$out/age"
  web/node_modules/.bin/esbuild web/src/age-entry.js --bundle --format=esm --minify --legal-comments=eof \
    --outfile="$out/age/age.bundle.js"
  printf 'age-encryption %s, @noble/hashes %s, @noble/curves %s (npm, BSD-3-Clause / MIT), bundled with esbuild\n' \
    "$(node -p "require('./web/node_modules/age-encryption/package.json').version")" \
    "$(node -p "require('./web/node_modules/@noble/hashes/package.json').version")" \
    "$(node -p "require('./web/node_modules/@noble/curves/package.json').version")" > "$out/age/VERSION"
fi
echo "vendored into $out"
