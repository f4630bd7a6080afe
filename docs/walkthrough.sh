#!/usr/bin/env bash
# The README's "Sealed bids: a walkthrough", end to end, against a running server:
# a negotiated tender with 2-of-3 key custodians who run a dealerless key ceremony (each with
# his own login), a bid of three envelopes of several files each packed and sealed with
# `centrale seal --file ...`, its receipt verified with `openssl ts
# -verify` and `centrale verify`, the deadline crossed in real time, envelopes A, B and C
# opened with the shares two custodians submit themselves, and each file of A and C downloaded;
# then the award, and the auditor's bundle checked offline in another directory with the
# commands of its own VERIFY.md.
#
#   BASE=http://127.0.0.1:8080 ADMIN_PASSWORD='...' docs/walkthrough.sh
#
# BASE           the server (default http://127.0.0.1:8080, what `make run` serves)
# ADMIN_PASSWORD the first admin's password (printed once at first start, or the one you set
#                with CENTRALE__BOOTSTRAP__ADMIN_PASSWORD)
# MINUTES        how far ahead the submission deadline is (default 3); the script then waits
#                for it by polling the tender's state
# DEADLINE_SECONDS the same in seconds (overrides MINUTES; the test in
#                crates/centrale/tests/walkthrough.rs uses a few seconds)
# POLL_SECONDS   how often to poll while waiting (default 5)
# CENTRALE       how to run the CLI (default: `centrale` if on PATH, else `cargo run` in this repo)
# WORK           working directory for keys, envelopes and receipts (default: a new temp dir)
#
# Every run makes its own ente, officials, supplier and CIG (tagged with the current time),
# so it can be repeated against the same database. Needs curl, jq, openssl, unzip, pdftotext.
set -euo pipefail

BASE=${BASE:-http://127.0.0.1:8080}
API=$BASE/api/v1
: "${ADMIN_PASSWORD:?set ADMIN_PASSWORD to the admin password}"
MINUTES=${MINUTES:-3}
DEADLINE_SECONDS=${DEADLINE_SECONDS:-$((MINUTES * 60))}
POLL_SECONDS=${POLL_SECONDS:-5}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${CENTRALE:-}" ]; then
  if command -v centrale >/dev/null; then CENTRALE=centrale
  else CENTRALE="cargo run -q --manifest-path $REPO/Cargo.toml --bin centrale --"; fi
fi
read -ra CENTRALE_CMD <<< "$CENTRALE"
# `command`: with CENTRALE=centrale this function must run the binary, not call itself.
centrale() { command "${CENTRALE_CMD[@]}" "$@"; }
for tool in curl jq openssl unzip pdftotext; do
  command -v $tool >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK" && cd "$WORK"
step() { printf '\n== %s\n' "$*"; }
JSON=(-H 'Content-Type: application/json')
# POST/PUT JSON with a bearer token; fails (exit 22) on an HTTP error, printing the problem.
call() { # METHOD PATH TOKEN [BODY]
  local out
  if ! out=$(curl -sS -X "$1" "$API$2" ${3:+-H "Authorization: Bearer $3"} "${JSON[@]}" ${4:+-d "$4"} \
             -w '\n%{http_code}'); then return 1; fi
  local code=${out##*$'\n'} body=${out%$'\n'*}
  if [ "$code" -ge 400 ]; then echo "$1 $2 -> $code $body" >&2; return 22; fi
  printf '%s' "$body"
}
# The call must be refused with this problem code; prints it.
refused() { # CODE METHOD PATH TOKEN [BODY]
  local code=$1 out; shift
  if out=$(call "$@" 2>&1); then echo "$1 $2 was accepted; expected $code" >&2; exit 1; fi
  grep -q "\"code\":\"$code\"" <<<"$out" || { echo "expected $code, got: $out" >&2; exit 1; }
  echo "refused: $code"
}
login() { call POST /auth/login "" "{\"email\":\"$1\",\"password\":\"$2\"}" | jq -r .token; }

# Valid identifiers for this run: partite IVA with their check digit, an ordinary CIG.
RUN=$(date +%s)
piva() { # 10 digits -> 11 with the check digit
  local s=$1 sum=0 i d
  for i in 0 1 2 3 4 5 6 7 8 9; do
    d=${s:i:1}
    if (( i % 2 )); then d=$((2 * d)); (( d > 9 )) && d=$((d - 9)); fi
    sum=$((sum + d))
  done
  echo "$s$(( (10 - sum % 10) % 10 ))"
}
ENTE_CF=$(piva "$(printf '%07d' $((RUN % 10000000)))015")
OE_PIVA=$(piva "$(printf '%07d' $(((RUN + 1) % 10000000)))015")
N=$((RUN % 9000000 + 1000000))
CIG=$(printf '%07d%03X' $N $((N * 211 % 4091)))
PW=una-password-lunga
echo "working in $WORK, run $RUN, server $BASE"

step "1. the admin logs in and registers a member authority"
ADMIN=$(login admin@centrale.local "$ADMIN_PASSWORD")
ENTE=$(call POST /enti "$ADMIN" "{\"nome\":\"Comune di prova $RUN\",\"codice_fiscale\":\"$ENTE_CF\",
  \"tipo\":\"comune\",\"istat_code\":\"015146\",\"pec\":\"protocollo.$RUN@pec.comune.it\"}" | jq -r .id)
echo "ente $ENTE"

step "2. the RUP and three custodians (officials with a role in the ente)"
official() { # email name role -> user id
  call POST /users "$ADMIN" "{\"email\":\"$1\",\"full_name\":\"$2\",\"password\":\"$PW\",
    \"roles\":[{\"role\":\"$3\",\"ente_id\":\"$ENTE\"}]}" | jq -r .id
}
official "rup.$RUN@comune.it" "Maria Bianchi" rup >/dev/null
C1=$(official "commissario.$RUN@comune.it" "Luca Verdi" commission)
C2=$(official "segretario.$RUN@comune.it" "Paolo Gialli" commission)
C3=$(official "revisore.$RUN@comune.it" "Anna Neri" auditor)
RUP=$(login "rup.$RUN@comune.it" $PW)
echo "custodians $C1 $C2 $C3"

T1=$(login "commissario.$RUN@comune.it" $PW)
T2=$(login "segretario.$RUN@comune.it" $PW)
T3=$(login "revisore.$RUN@comune.it" $PW)
TOKENS=("$T1" "$T2" "$T3")

step "3. each custodian makes an age transport key pair, on his own machine"
for i in 1 2 3; do centrale keys custodian-keygen --out c$i.key; done

step "4. a supplier registers, enters the albo with its documents, and the admin qualifies it"
OE_EMAIL="gare.$RUN@cartoleria.it"
# 202 whether or not the address was taken (no enumeration); the account id comes with the login.
call POST /auth/register "" "{\"email\":\"$OE_EMAIL\",\"full_name\":\"Ufficio gare\",
  \"password\":\"fornitore-password\"}" >/dev/null
OE_LOGIN=$(call POST /auth/login "" "{\"email\":\"$OE_EMAIL\",\"password\":\"fornitore-password\"}")
OE=$(jq -r .token <<<"$OE_LOGIN")
OE_ID=$(jq -r .user_id <<<"$OE_LOGIN")
OP=$(call POST /registry/operatori "$OE" "{\"ragione_sociale\":\"Cartoleria $RUN S.r.l.\",
  \"forma_giuridica\":\"srl\",\"partita_iva\":\"$OE_PIVA\",\"codice_fiscale\":\"$OE_PIVA\",
  \"sede_istat\":\"015146\",\"sede_indirizzo\":\"Via Roma 1\",\"pec\":\"gare.$RUN@legalmail.it\",
  \"legale_rappresentante\":{\"nome\":\"Mario Rossi\",\"codice_fiscale\":\"RSSMRA80A01F205X\"}}" | jq -r .id)
printf '%%PDF-1.4 DURC\n' > durc.pdf
printf '%%PDF-1.4 visura camerale\n' > visura.pdf
DURC_UNTIL=$(date -d '+100 days' +%Y-%m-%d)
curl -sSf -X POST "$API/registry/operatori/$OP/documenti?tipo=durc&nome_file=durc.pdf&scadenza=$DURC_UNTIL" \
  -H "Authorization: Bearer $OE" -H 'Content-Type: application/pdf' --data-binary @durc.pdf >/dev/null
curl -sSf -X POST "$API/registry/operatori/$OP/documenti?tipo=visura_camerale&nome_file=visura.pdf" \
  -H "Authorization: Bearer $OE" -H 'Content-Type: application/pdf' --data-binary @visura.pdf >/dev/null
call PUT /registry/operatori/$OP/categorie "$OE" '{"cpv":["30192000-1"],"soa":[]}' >/dev/null
call POST /registry/operatori/$OP/qualification "$ADMIN" '{"action":"qualify"}' | jq -c '{status,invitable}'

step "5. the RUP drafts a negotiated procedure (deadline in $DEADLINE_SECONDS s), custodians 2 of 3"
DEADLINE=$(TZ=Europe/Rome date -d "+$DEADLINE_SECONDS seconds" +%Y-%m-%dT%H:%M:%S)
QUESTIONS=$(TZ=Europe/Rome date -d '7 days ago' +%Y-%m-%d)T12:00
BANDO=$(call POST /bandi "$RUP" "{
  \"ente_id\":\"$ENTE\",\"oggetto\":\"Fornitura di materiale per ufficio\",\"cig\":\"$CIG\",
  \"cpv_main\":\"30192000-1\",\"nuts\":\"ITC4C\",\"contract_type\":\"supplies\",
  \"procedure_type\":\"negoziata_senza_bando\",\"award_criterion\":\"minor_prezzo\",
  \"base_amount\":\"120000.00\",\"safety_costs\":\"0\",
  \"questions_deadline\":\"$QUESTIONS\",\"submission_deadline\":\"$DEADLINE\",\"opening_at\":\"$DEADLINE\",
  \"envelopes\":[\"A\",\"B\",\"C\"],\"custodians\":[\"$C1\",\"$C2\",\"$C3\"],\"custodian_threshold\":2,
  \"invitees\":[\"$OE_ID\"]}" | jq -r .id)
echo "bando $BANDO, deadline $DEADLINE (Rome)"

step "6. publication, then the dealerless key ceremony: each custodian, with his own login,"
echo "   registers his transport key, contributes, checks what he received and acknowledges"
call POST /bandi/$BANDO/publish "$RUP" '{}' | jq -c '{state,version}'
for i in 1 2 3; do
  call POST /bandi/$BANDO/sigillo/custodi "${TOKENS[i-1]}" \
    "{\"age_key\":\"$(grep -o 'age1.*' c$i.key)\"}" | jq -c '{status}'
done
for i in 1 2 3; do
  call GET /bandi/$BANDO/sigillo "${TOKENS[i-1]}" > sigillo-$i.json
  centrale keys contribute --ceremony sigillo-$i.json > contributo-$i.json
  call POST /bandi/$BANDO/sigillo/contributi "${TOKENS[i-1]}" "$(cat contributo-$i.json)" | jq -c '{status}'
done
for i in 1 2 3; do
  call GET /bandi/$BANDO/sigillo/contributi "${TOKENS[i-1]}" > contributi-$i.json
  centrale keys ack --identity c$i.key --contributions contributi-$i.json > conferma-$i.json
  call POST /bandi/$BANDO/sigillo/conferme "${TOKENS[i-1]}" "$(cat conferma-$i.json)" | jq -c '{status,recipients}'
done

step "7. the supplier seals its envelopes on its own machine and submits them"
curl -sSf "$API/bandi/$BANDO/sigillo" -H "Authorization: Bearer $OE" > sigillo.json
# Each envelope holds several files, packed in a centrale-busta/1 archive (a manifest with
# names, sizes, SHA-256) and sealed in one pass; C must carry offerta-economica.json.
printf 'Domanda di partecipazione di Cartoleria %s S.r.l.\n' $RUN > domanda.txt
printf '<dgue operatore="Cartoleria %s S.r.l."/>\n' $RUN > dgue.xml
printf '%%PDF-1.4 garanzia provvisoria\n' > garanzia.pdf
printf 'Offerta tecnica: carta riciclata FSC, consegna in 48 ore\n' > relazione-tecnica.txt
printf 'Schede tecniche dei prodotti\n' > schede.txt
echo '{"discount":"12.5","labour_costs":"41000","safety_costs":"2500"}' > offerta-economica.json
printf 'Offerta economica sottoscritta dal legale rappresentante\n' > offerta-firmata.txt
# One key per envelope kind: whoever opens A learns nothing that reads B or C.
seal() { centrale seal --recipient "$(jq -r .recipients.$1 sigillo.json)" --bando "$BANDO" --busta "$@"; }
seal A --file domanda.txt --file dgue.xml --file garanzia.pdf --output busta-a.age
seal B --file relazione-tecnica.txt --file schede.txt --output busta-b.age
seal C --offerta offerta-economica.json --file offerta-firmata.txt --output busta-c.age
for K in A B C; do
  k=$(echo $K | tr A-Z a-z)
  curl -sSf "$API/bandi/$BANDO/offerta/buste/$K?sealed=client" -H "Authorization: Bearer $OE" \
    -H 'Content-Type: application/octet-stream' --data-binary @busta-$k.age > receipt-$k.json
  jq -c '{kind,envelope_id,sha256,received_at}' receipt-$k.json
done

step "8. the receipt's RFC 3161 token, with openssl"
curl -sSf "$API/log/tsa-certificates" > tsa.json
jq -r .ca_pem tsa.json > ca.pem
jq -r .tsa_pem tsa.json > tsa.pem
jq -j .receipt receipt-a.json | sed '$d' > receipt-a.txt     # the signed lines, without "signature"
jq -r .tsa_token receipt-a.json | base64 -d > receipt-a.tsr  # a DER TimeStampToken
openssl ts -verify -data receipt-a.txt -in receipt-a.tsr -token_in -CAfile ca.pem -untrusted tsa.pem
sed 's/^envelope A$/envelope B/' receipt-a.txt > tampered.txt
if openssl ts -verify -data tampered.txt -in receipt-a.tsr -token_in -CAfile ca.pem -untrusted tsa.pem \
     >/dev/null 2>&1; then echo "a tampered receipt passed openssl ts -verify" >&2; exit 1; fi
echo "tampered receipt: refused, as it should"

step "9. the receipt, offline, with centrale verify (once the sequencer has logged the leaf)"
E_A=$(jq -r .envelope_id receipt-a.json)
until curl -sSf "$API/buste/$E_A/ricevuta" -H "Authorization: Bearer $OE" > bundle-a.json &&
      [ "$(jq -r '.leaf_index != null and .checkpoint != null' bundle-a.json)" = true ]; do sleep 1; done
curl -sSf "$API/log/keys" > keys.json
PLATFORM_KEY=$(jq -r .platform_key keys.json)
LOG_KEY=$(jq -r .log_key keys.json)
centrale verify --bundle bundle-a.json --envelope busta-a.age \
  --platform-key "$PLATFORM_KEY" --log-key "$LOG_KEY" | jq -c '{leaf_index,checkpoint_size,checks}'
jq -j .checkpoint bundle-a.json > old.note                   # keep this checkpoint for later
cp busta-a.age altered.age && printf 'x' >> altered.age
if centrale verify --bundle bundle-a.json --envelope altered.age \
     --platform-key "$PLATFORM_KEY" --log-key "$LOG_KEY" 2>/dev/null; then
  echo "an altered envelope passed centrale verify" >&2; exit 1; fi
echo "altered envelope: refused, as it should"

step "10. waiting for the deadline ($DEADLINE Rome); before it, nothing can be opened"
refused opening_before_deadline POST /bandi/$BANDO/aperture/A "$RUP" '{}'
while [ "$(call GET /bandi/$BANDO "$RUP" | jq -r .state)" = published ]; do sleep "$POLL_SECONDS"; done
call GET /bandi/$BANDO "$RUP" | jq -c '{state}'
if curl -sS "$API/bandi/$BANDO/offerta/buste/A?sealed=client" -H "Authorization: Bearer $OE" \
     --data-binary @busta-a.age | tee late.json | jq -e '.code == "deadline_passed"' >/dev/null; then
  echo "a late envelope: refused (deadline_passed)"
else echo "a late envelope was not refused: $(cat late.json)" >&2; exit 1; fi

step "11. after the deadline: the log only grew (consistency with the checkpoint kept in step 9)"
curl -sSf "$API/buste/$E_A/ricevuta?since=$(sed -n 2p old.note)" -H "Authorization: Bearer $OE" > bundle-a2.json
centrale verify --bundle bundle-a2.json --envelope busta-a.age --older-checkpoint old.note \
  --platform-key "$PLATFORM_KEY" --log-key "$LOG_KEY" | jq -c '{checkpoint_size,checks}'

step "12. the RUP alone cannot open: the custodians' shares are not in"
refused opening_shares_missing POST /bandi/$BANDO/aperture/A "$RUP" '{}'
refused opening_out_of_order POST /bandi/$BANDO/aperture/C "$RUP" '{}'      # C before A

step "13. for A, then B, then C: two custodians (of three) each submit their own share, the RUP opens"
for K in A B C; do
  for i in 1 3; do
    call GET /bandi/$BANDO/sigillo/contributi "${TOKENS[i-1]}" > contributi-$i.json
    centrale keys decrypt-share --identity c$i.key --contributions contributi-$i.json --kind $K > quota-$K-$i.json
    call POST /bandi/$BANDO/aperture/$K/quote "${TOKENS[i-1]}" "$(cat quota-$K-$i.json)" | jq -c '{kind,submitted_by}'
  done
  call POST /bandi/$BANDO/aperture/$K "$RUP" '{}' > opening-$K.json
  jq -c '{kind, shares_used, envelopes: [.envelopes[] | {sha256, files: [.files[]?.name], error, economic_offer}]}' opening-$K.json
done

step "14. the RUP lists the files of the opened envelopes A and C and downloads each: the bytes sealed"
for k in a c; do
  E=$(jq -r .envelope_id receipt-$k.json)
  call GET /buste/$E/file "$RUP" > files-$k.json
  for name in $(jq -r '.[].name' files-$k.json); do
    curl -sSf "$API/buste/$E/file/$name" -H "Authorization: Bearer $RUP" > opened-$name
    cmp opened-$name $name
    echo "busta ${k^^}: $name $(jq -r --arg n "$name" '.[] | select(.name == $n) | "\(.size) \(.sha256)"' files-$k.json)"
  done
done
refused archive_file_not_found GET /buste/$(jq -r .envelope_id receipt-a.json)/file/altro.pdf "$RUP"
# At the lowest price nobody evaluates B, so nobody reads it (no_technical_envelope); and the
# ciphertext goes to the bidder and the auditors, not to the RUP who opens.
E_B=$(jq -r .envelope_id receipt-b.json)
call GET /buste/$E_B/contenuto "$RUP" 2>&1 | grep -o '"code":"[a-z_.]*"' || true
call GET /buste/$E_B/cifrato "$RUP" 2>&1 | grep -o '"code":"[a-z_.]*"' || true
call GET /bandi/$BANDO/aperture "$RUP" | jq -c '[.[] | {kind, opened_at}]'

step "15. issued documents (PDF): the bidder's receipt, to it alone; the minutes of the opening of A"
call POST /bandi/$BANDO/documenti-emessi "$OE" '{"tipo":"ricevuta"}' > doc-ricevuta.json
call POST /bandi/$BANDO/documenti-emessi "$RUP" '{"tipo":"verbale_seduta","busta":"A"}' > doc-seduta-a.json
refused forbidden GET /bandi/$BANDO/documenti-emessi/$(jq -r .id doc-ricevuta.json) "$RUP"
for d in ricevuta:$OE seduta-a:$RUP; do
  name=${d%%:*} token=${d#*:}
  curl -sSf "$API/bandi/$BANDO/documenti-emessi/$(jq -r .id doc-$name.json)" -H "Authorization: Bearer $token" > $name.pdf
  [ "$(head -c 5 $name.pdf)" = "%PDF-" ] && [ "$(sha256sum $name.pdf | cut -d' ' -f1)" = "$(jq -r .sha256 doc-$name.json)" ]
  jq -c '{tipo, version, sha256, leaf_hash}' doc-$name.json
done
# Issuing again with the same data returns the same document: nothing new is written.
[ "$(call POST /bandi/$BANDO/documenti-emessi "$OE" '{"tipo":"ricevuta"}' | jq -r .created)" = false ]

step "16. the RUP admits the bidder, runs the economic phase, proposes, checks the requirements, awards"
call POST /bandi/$BANDO/valutazione/ammissioni "$RUP" "{\"bidder_id\":\"$OE_ID\",\"decision\":\"admitted\"}" \
  | jq -c '{state, participants: [.participants[] | {status}]}'
call POST /bandi/$BANDO/valutazione/economica "$RUP" '{}' | jq -c '{ranking: [.evaluation.ranking[] | {rank, discount}]}'
call POST /bandi/$BANDO/valutazione/proposta "$RUP" '{}' | jq -c '{award: .award.outcome}'
# Art. 17 c.5: the award is effective once the proposed winner's requirements are checked.
call POST /bandi/$BANDO/valutazione/requisiti "$RUP" \
  '{"requirement":"Iscrizione alla CCIAA e DURC regolare","evidence":"FVOE","satisfied":true}' >/dev/null
call POST /bandi/$BANDO/valutazione/aggiudicazione "$RUP" '{}' | jq -c '{state, award: .award.outcome}'

step "17. the award report, issued by the RUP once (a POST); the auditor downloads it and finds the bidder"
call POST /bandi/$BANDO/documenti-emessi "$RUP" '{"tipo":"verbale_aggiudicazione"}' > doc-verbale.json
curl -sSf "$API/bandi/$BANDO/documenti-emessi/$(jq -r .id doc-verbale.json)" -H "Authorization: Bearer $T3" > verbale.pdf
[ "$(sha256sum verbale.pdf | cut -d' ' -f1)" = "$(jq -r .sha256 doc-verbale.json)" ]
# The bidder by ragione sociale and partita IVA in the report's tables (pdftotext: poppler-utils).
pdftotext -layout verbale.pdf verbale.txt
grep -m1 "$OE_PIVA" verbale.txt
grep -q "Cartoleria" verbale.txt && echo "verbale: the bidder is named"

step "18. the auditor downloads the auditor's bundle and checks it in another directory, offline"
curl -sSf "$API/bandi/$BANDO/pacchetto.zip" -H "Authorization: Bearer $T3" -o pacchetto.zip
mkdir -p "$WORK/verifica" && (cd "$WORK/verifica" && unzip -q ../pacchetto.zip)
# Every command block of its VERIFY.md, as the auditor would paste them, from the unpacked
# directory with nothing but the files and the `centrale` binary.
awk '/^```(sh|bash|shell)$/{on=1; next} /^```$/{on=0} on' "$WORK/verifica/VERIFY.md" > verifica.sh
# They call `centrale`: a shim on the PATH for however this run runs it.
# (`type -P`: the file on the PATH, not this script's function of the same name.)
SHIM=("${CENTRALE_CMD[@]}"); SHIM[0]=$(type -P "${SHIM[0]}")
mkdir -p "$WORK/bin" && printf '#!/usr/bin/env bash\nexec %s "$@"\n' "$(printf '%q ' "${SHIM[@]}")" > "$WORK/bin/centrale"
chmod +x "$WORK/bin/centrale"
(cd "$WORK/verifica" && env -u DATABASE_URL PATH="$WORK/bin:$PATH" bash -euo pipefail "$WORK/verifica.sh") > verifica.log
tail -n 3 verifica.log
echo "VERIFY.md: $(grep -c . verifica.sh) command lines, all passed"
echo; echo "walkthrough completed; files in $WORK"
