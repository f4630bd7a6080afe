#!/usr/bin/env bash
# Fuzzes the API with schemathesis against its own OpenAPI document (issue 11, point 7):
# starts the real server (`target/debug/centrale serve`) on a free loopback port with a
# private database and seal directory, makes an ente, a RUP and a qualified-less supplier
# (curl + jq, like docs/walkthrough.sh), then runs `schemathesis run` once with each of an
# admin, a RUP and a supplier token. Fails on any 5xx (`not_a_server_error`) or on a
# response its documented schema does not describe (`response_schema_conformance`).
#
#   scripts/fuzz.sh           the long run (`make fuzz`)
#   scripts/fuzz.sh --short   a short seeded run (`make test`, crates/centrale/tests/fuzz.rs)
#
# DATABASE_URL  use this (empty, fresh) database; without it a new database is made in the
#               private cluster under target/pg and dropped at the end
# CENTRALE_BIN  the server binary (default target/debug/centrale, built if missing)
# FUZZ_SEED     the seed (default 11); FUZZ_EXAMPLES the examples per operation
# FUZZ_WORK     where the server log, seal directory and reports go (default: a temp dir)
#
# schemathesis is installed, pinned, into target/fuzz-venv from PyPI on first use.
# The fuzzer reaches nothing but the server: notifications are disabled and their SMTP relay
# points at a closed loopback port; the server itself makes no outgoing connection.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHORT=false
[ "${1:-}" = "--short" ] && SHORT=true
SEED=${FUZZ_SEED:-11}
if $SHORT; then EXAMPLES=${FUZZ_EXAMPLES:-15}; PHASES=examples,fuzzing
else EXAMPLES=${FUZZ_EXAMPLES:-40}; PHASES=examples,coverage,fuzzing; fi
ADMIN_PASSWORD=password-admin-fuzz
for tool in curl jq python3; do
  command -v $tool >/dev/null || { echo "fuzz: $tool is required" >&2; exit 2; }
done

VENV=$REPO/target/fuzz-venv
ST=$VENV/bin/schemathesis
if ! [ -x "$ST" ] || ! "$ST" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "fuzz: installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

BIN=${CENTRALE_BIN:-$REPO/target/debug/centrale}
if ! [ -x "$BIN" ]; then (cd "$REPO" && cargo build -q --bin centrale); fi

WORK=${FUZZ_WORK:-$(mktemp -d -t centrale-fuzz.XXXXXX)}
mkdir -p "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
API=$BASE/api/v1

DROP_DB=""
if [ -z "${DATABASE_URL:-}" ]; then
  # A fresh database in the private cluster, dropped at the end.
  export CENTRALE__DATABASE__DATABASE_NAME="centrale_fuzz_$$_$(date +%s)"
  DROP_DB=$CENTRALE__DATABASE__DATABASE_NAME
fi

SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$DROP_DB" ] && command -v psql >/dev/null; then
    ADMIN_URL=$(cd "$REPO" && "$BIN" db up 2>/dev/null | tail -1) &&
      psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$DROP_DB\"" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

(cd "$REPO" && exec env \
  CENTRALE__SERVER__BIND=127.0.0.1:$PORT \
  CENTRALE__SERVER__PUBLIC_URL="$BASE" \
  CENTRALE__SEAL__DIR="$WORK/seal" \
  CENTRALE__BOOTSTRAP__ADMIN_EMAIL=admin@centrale.local \
  CENTRALE__BOOTSTRAP__ADMIN_PASSWORD=$ADMIN_PASSWORD \
  CENTRALE__NOTIFY__ENABLED=false \
  CENTRALE__NOTIFY__SMTP_HOST=127.0.0.1 \
  CENTRALE__NOTIFY__SMTP_PORT=9 \
  CENTRALE__LOG__FILTER=warn \
  RUST_LOG=warn \
  "$BIN" serve >"$WORK/server.out" 2>"$WORK/server.log") &
SERVER_PID=$!
for _ in $(seq 600); do
  curl -sf "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "fuzz: the server died:" >&2; cat "$WORK/server.log" >&2; exit 2; }
  sleep 0.1
done
curl -sf "$BASE/healthz" >/dev/null || { echo "fuzz: the server did not come up" >&2; exit 2; }

JSON=(-H 'Content-Type: application/json')
call() { # METHOD PATH TOKEN [BODY]
  curl -sSf -X "$1" "$API$2" ${3:+-H "Authorization: Bearer $3"} "${JSON[@]}" ${4:+-d "$4"}
}
login() { call POST /auth/login "" "{\"email\":\"$1\",\"password\":\"$2\"}" | jq -r .token; }
piva() { # 10 digits -> 11 with the check digit
  local s=$1 sum=0 i d
  for i in 0 1 2 3 4 5 6 7 8 9; do
    d=${s:i:1}
    if (( i % 2 )); then d=$((2 * d)); (( d > 9 )) && d=$((d - 9)); fi
    sum=$((sum + d))
  done
  echo "$s$(( (10 - sum % 10) % 10 ))"
}
PW=una-password-lunga
ADMIN=$(login admin@centrale.local $ADMIN_PASSWORD)
ENTE=$(call POST /enti "$ADMIN" "{\"nome\":\"Comune del fuzzer\",\"codice_fiscale\":\"$(piva 0000001015)\",
  \"tipo\":\"comune\",\"istat_code\":\"015146\",\"pec\":\"protocollo@pec.comune.it\"}" | jq -r .id)
call POST /users "$ADMIN" "{\"email\":\"rup@comune.it\",\"full_name\":\"Maria Bianchi\",\"password\":\"$PW\",
  \"roles\":[{\"role\":\"rup\",\"ente_id\":\"$ENTE\"}]}" >/dev/null
RUP=$(login rup@comune.it $PW)
call POST /auth/register "" "{\"email\":\"gare@fornitore.it\",\"full_name\":\"Ufficio gare\",\"password\":\"$PW\"}" >/dev/null
SUPPLIER=$(login gare@fornitore.it $PW)
OE_PIVA=$(piva 0000002015)
call POST /registry/operatori "$SUPPLIER" "{\"ragione_sociale\":\"Fornitore S.r.l.\",
  \"forma_giuridica\":\"srl\",\"partita_iva\":\"$OE_PIVA\",\"codice_fiscale\":\"$OE_PIVA\",
  \"sede_istat\":\"015146\",\"sede_indirizzo\":\"Via Roma 1\",\"pec\":\"gare@legalmail.it\",
  \"legale_rappresentante\":{\"nome\":\"Mario Rossi\",\"codice_fiscale\":\"RSSMRA80A01F205X\"}}" >/dev/null
curl -sSf "$API/openapi.json" -o "$WORK/openapi.json" 2>/dev/null || cp "$REPO/docs/openapi.json" "$WORK/openapi.json"
echo "fuzz: server $BASE, ente $ENTE, seed $SEED, $EXAMPLES examples per operation, phases $PHASES"

status=0
cd "$WORK"  # schemathesis and hypothesis keep their caches in the working directory
for who in admin rup supplier; do
  case $who in admin) TOKEN=$ADMIN ;; rup) TOKEN=$RUP ;; supplier) TOKEN=$SUPPLIER ;; esac
  echo "== schemathesis as $who"
  # Logging out would end the token mid-run: the only operation left out.
  if ! SCHEMATHESIS_HOOKS=fuzz_hooks PYTHONPATH="$REPO/scripts" "$ST" run "$WORK/openapi.json" --url "$BASE" \
      -H "Authorization: Bearer $TOKEN" \
      --checks not_a_server_error,response_schema_conformance \
      --phases "$PHASES" --max-examples "$EXAMPLES" --seed "$SEED" --workers 1 \
      --exclude-path /api/v1/auth/logout \
      --request-timeout 30 --no-color \
      --suppress-health-check all --generation-database none \
      --report junit --report-dir "$WORK/report-$who" \
      >"$WORK/schemathesis-$who.txt" 2>&1; then
    status=1
    echo "fuzz: failures as $who (full output $WORK/schemathesis-$who.txt):"
    sed -n '/FAILURES/,$p' "$WORK/schemathesis-$who.txt" | head -400
  else
    tail -5 "$WORK/schemathesis-$who.txt"
  fi
done
if grep -q 'panicked' "$WORK/server.log"; then
  echo "fuzz: the server panicked:" >&2; grep -A3 panicked "$WORK/server.log" | head -40 >&2; status=1
fi
[ $status -eq 0 ] && echo "fuzz: no server error, every response as documented"
exit $status
