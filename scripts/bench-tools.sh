#!/usr/bin/env bash
# The tools of the scale-out scenario (issue 15, scenario 6: tests/src/scale_out.rs, its smoke
# test crates/centrale/tests/scale_out.rs and the shared-store test tests/tests/shared_store.rs),
# idempotent:
# - s3s-fs, an S3-compatible server on a directory (crates.io, the s3s project), built once
#   into target/tools/bin (a few minutes; 0.14.x is the last release for this toolchain);
# - HAProxy, the balancer in front of the two instances (Debian's package, as root).
# Says what is missing instead of failing: the tests that need them say so too.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/target/tools"
S3S_FS_VERSION=0.14.1
if [ ! -x "$tools/bin/s3s-fs" ] || ! "$tools/bin/s3s-fs" --version 2>/dev/null | grep -q "$S3S_FS_VERSION"; then
    echo "installing s3s-fs $S3S_FS_VERSION into $tools (once)"
    cargo install s3s-fs --version "$S3S_FS_VERSION" --features binary --locked --root "$tools" --quiet \
        || echo "warning: could not install s3s-fs; the scale-out tests will fail" >&2
fi
haproxy_bin=$(command -v haproxy || ls /usr/sbin/haproxy 2>/dev/null || true)
if [ -z "$haproxy_bin" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing haproxy"
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null \
            || echo "warning: could not install haproxy" >&2
    else
        echo "warning: haproxy missing (Debian package haproxy); the scale-out test will fail" >&2
    fi
fi
exit 0
