#!/usr/bin/env bash
# What the real-browser tests (crates/portal/tests/browser.rs) need: Debian's Chromium and its
# driver, and the pinned node packages of tests/browser (playwright-core drives that Chromium
# through executablePath; it never downloads a browser of its own, which this network refuses).
# Idempotent: nothing is installed when everything is already there, so `make test` can run it
# every time. Installs from Debian only as root; otherwise says what is missing.
set -u
cd "$(dirname "$0")/.."
status=0
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium and chromium-driver from Debian"
        # Other apt users on the same machine hold the dpkg lock for a while: wait for it.
        apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
            --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null \
            || { echo "warning: could not install chromium" >&2; status=1; }
    else
        echo "warning: /usr/bin/chromium is missing (apt-get install chromium chromium-driver); the browser tests will fail" >&2
        status=1
    fi
fi
if command -v npm >/dev/null 2>&1; then
    lock=tests/browser/package-lock.json
    stamp=tests/browser/node_modules/.package-lock.json
    # npm ci wipes node_modules; skip it when the installed tree already matches the lock.
    if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
        (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) \
            || { echo "warning: npm ci in tests/browser failed" >&2; status=1; }
    fi
else
    echo "warning: npm is missing; the browser tests will fail" >&2
    status=1
fi
exit $status
