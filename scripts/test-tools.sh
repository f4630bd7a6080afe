#!/usr/bin/env bash
# The command-line tools the test suite drives besides PostgreSQL's server (which the harness
# starts itself): psql and pg_dump (secrecy and tamper tests), openssl (RFC 3161 interop),
# pdftotext, pdftoppm and qpdf (issued documents), python3 with venv (the OCDS validator), and curl and jq with them for the README walkthrough
# (docs/walkthrough.sh, run by crates/centrale/tests/walkthrough.rs), node and npm (the portal's JavaScript),
# and then Chromium with the node packages of tests/browser (scripts/browser-tools.sh). Installs the missing ones from Debian when run as root;
# otherwise says what is missing and lets the tests that can skip do so.
set -u
missing=()
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v pg_dump >/dev/null 2>&1 || missing+=(postgresql-client)
# pgbench, the anchor of `make bench`'s rush and of its smoke test (tests/tests/bench_smoke.rs):
# Debian's wrapper comes with the client, the binary with the server the harness installs.
command -v pgbench >/dev/null 2>&1 || missing+=(postgresql-client)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
# The issued documents' structure check (tests/tests/documents.rs: qpdf --check) and their
# renders to PNG (pdftoppm, in poppler-utils).
command -v qpdf >/dev/null 2>&1 || missing+=(qpdf)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v jq >/dev/null 2>&1 || missing+=(jq)
# The auditor's bundle in the walkthrough (unzip).
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
# The OCDS validator (scripts/ocds-validate.sh, tests/tests/ocds.rs): a venv of python3.
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || missing+=(python3-venv)
# The portal's JavaScript tests (crates/portal/tests/js_unit.rs, docs/portal-sealing.md).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# The real-browser tests' Chromium and node packages (idempotent), once npm is there.
browser_tools() {
    bash "$(dirname "$0")/browser-tools.sh" \
        || echo "warning: the browser tools are incomplete; crates/portal/tests/browser.rs will fail" >&2
}
# The scale-out scenario's S3 server and balancer (scripts/bench-tools.sh, idempotent).
bench_tools() {
    bash "$(dirname "$0")/bench-tools.sh"
}
if [ ${#missing[@]} -eq 0 ]; then browser_tools; bench_tools; exit 0; fi
packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test tools: $packages"
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null \
        || echo "warning: could not install $packages" >&2
else
    echo "warning: missing test tools ($packages); install them for the full suite" >&2
fi
browser_tools
bench_tools
exit 0
