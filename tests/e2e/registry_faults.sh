#!/usr/bin/env bash
# mason's registry client under faults, against a real registry (Debian's
# docker-registry on loopback) behind fault_proxy.py, which forwards
# everything and injects, per scenario, what a flaky network or registry
# does: a connection cut in the middle of a blob (once: the pull resumes
# with Range, or starts the blob over when the resume is answered 200 or
# 416; always: a clear error and no partial blob in the store), a flipped
# byte (digest mismatch refused), 401/403/404/429/5xx answers (retried or
# not, Retry-After honoured, errors naming the reference and the
# registry), the registry killed in the middle of a blob (a clear error;
# restarted at once: the pull resumes), and push faults (an upload answered
# 500 once is retried; a manifest PUT answered 403 fails naming the
# destination). Images are pushed straight to the registry; faults are
# pulled through the proxy, so "the registry" in mason's messages is the
# proxy's host:port.
source "$(dirname "$0")/lib.sh"
need skopeo; need curl

export DOCKER_CONFIG=$WORK/docker-config # no credentials from the host
PROXY_PID=""
BG_PIDS=()
faults_cleanup() {
  local p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || :; done
  if [[ -n $PROXY_PID ]]; then kill "$PROXY_PID" 2>/dev/null || :; fi
  if [[ -s $WORK/proxy.err ]]; then
    echo "fault proxy's stderr:" >&2
    cat "$WORK/proxy.err" >&2
  fi
  cleanup
}
trap faults_cleanup EXIT
T0=$SECONDS
step() { echo "--- $* ($((SECONDS - T0)) s)"; }

start_registry
LOG=$WORK/proxy.log
python3 "$SRC/tests/e2e/fault_proxy.py" --upstream "$REGISTRY" --log "$LOG" \
  --port-file "$WORK/proxy.port" 2>"$WORK/proxy.err" &
PROXY_PID=$!
for _ in $(seq 1 100); do [[ -s $WORK/proxy.port ]] && break; sleep 0.05; done
[[ -s $WORK/proxy.port ]] || { cat "$WORK/proxy.err" >&2; fail "fault proxy did not start"; }
PROXY=127.0.0.1:$(cat "$WORK/proxy.port")

# Replaces the proxy's rules (JSON list) and empties its log.
faults() {
  curl -sf -X POST --data-binary "{\"rules\": $1}" "http://$PROXY/_fault/rules" >/dev/null ||
    fail "could not set the proxy's rules"
}
release() { curl -sf -X POST "http://$PROXY/_fault/release" >/dev/null || fail "proxy release"; }
# Number of log lines matching an extended regex.
count() { grep -cE "$1" "$LOG" || :; }
in_log() { grep -qE "$1" "$LOG" || { cat "$LOG" >&2; fail "$2 (no log line matching: $1)"; }; }
fresh_store() { export MASON_ROOT=$WORK/store-$1; }

# Runs mason, which must fail; its stderr goes to $WORK/err, the time taken
# to $ELAPSED (seconds, fractional).
must_fail() {
  local start rc
  start=$(date +%s.%N)
  set +e
  "$MASON" "$@" >"$WORK/out" 2>"$WORK/err"
  rc=$?
  set -e
  ELAPSED=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
  [[ $rc -ne 0 ]] || { cat "$WORK/out" "$WORK/err" >&2; fail "mason $* succeeded under a fault"; }
  echo "    mason $1 failed (exit $rc, ${ELAPSED} s): $(tail -1 "$WORK/err")"
}
must_succeed() {
  "$MASON" "$@" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err" >&2; fail "mason $*"; }
}
err_has() { grep -qiE -- "$1" "$WORK/err" || { cat "$WORK/err" >&2; fail "$2: the error lacks /$1/"; }; }
# The error names the reference and, apart from it, the registry host:port.
names_ref_and_registry() {
  local ref=$1 msg
  msg=$(cat "$WORK/err")
  [[ $msg == *"$ref"* ]] || { echo "$msg" >&2; fail "$2: the error does not name $ref"; }
  msg=${msg//"$ref"/}
  [[ $msg == *"$PROXY"* ]] || { cat "$WORK/err" >&2; fail "$2: the error does not name the registry $PROXY"; }
}
faster_than() {
  awk -v t="$ELAPSED" -v max="$1" 'BEGIN { exit !(t < max) }' || fail "$2: took $ELAPSED s (limit $1 s)"
}
# Nothing of blob $1 in the store: no committed file, no ingest temp file,
# and the reference $2 is not an image of the store.
no_partial() {
  local blob=$1 ref=$2
  [[ -d $MASON_ROOT/blobs/sha256 && -d $MASON_ROOT/ingest ]] || fail "store layout changed: $MASON_ROOT"
  [[ ! -e $MASON_ROOT/blobs/sha256/${blob#sha256:} ]] || fail "$3: the store kept blob $blob"
  [[ -z $(ls -A "$MASON_ROOT/ingest") ]] || { ls -l "$MASON_ROOT/ingest" >&2; fail "$3: ingest files left"; }
  "$MASON" images >"$WORK/images" || fail "mason images"
  ! grep -qF "${ref%:*}" "$WORK/images" || { cat "$WORK/images" >&2; fail "$3: $ref is listed"; }
}
# The time between the first two requests matching $1 (the 429 and its
# retry) is at least the 1 s of Retry-After.
retry_gap() {
  local gap
  gap=$(grep -E "$1" "$LOG" | sed 's/^t=\([0-9.]*\) .*/\1/' |
    awk 'NR == 1 { a = $1 } NR == 2 { printf "%.2f", $1 - a }')
  echo "    $2: retried ${gap} s after the 429 (Retry-After: 1)"
  awk -v g="$gap" 'BEGIN { exit !(g >= 0.95) }' || fail "$2: Retry-After: 1 not honoured (retried after $gap s)"
}
digest_of() {
  "$MASON" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])'
}

# --- Images in the registry: busybox, and busybox + a random file of at
# least 8 MiB (one incompressible layer, so cuts and kills land in the
# middle of it; 4 MiB more than the largest TCP send buffer, so that a
# killed registry cannot have handed the whole layer to the kernel).
step "setup"
import_busybox
ctx=$(context big <<'DF'
FROM busybox
COPY big.bin /big.bin
DF
)
BIG_SIZE=$(($(awk '{ print $3 }' /proc/sys/net/ipv4/tcp_wmem) + (4 << 20)))
((BIG_SIZE >= 8 << 20)) || BIG_SIZE=$((8 << 20))
head -c "$BIG_SIZE" /dev/urandom >"$ctx/big.bin"
BIG_SHA=$(sha256sum "$ctx/big.bin" | cut -d' ' -f1)
"$MASON" build --progress plain -t faults/big "$ctx" 2>"$WORK/err" || { cat "$WORK/err"; fail "build"; }
push_direct() {
  "$MASON" tag "$1" "$REGISTRY/$2"
  "$MASON" push -q "$REGISTRY/$2" >"$WORK/out" || fail "push $2"
  sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p' "$WORK/out"
}
SMALL_DIGEST=$(push_direct busybox faults/small:1)
BIG_DIGEST=$(push_direct faults/big faults/big:1)
[[ $SMALL_DIGEST == sha256:* && $BIG_DIGEST == sha256:* ]] || fail "no digests from push"
# faults/big's manifest, from the registry: its biggest layer (the random
# file) and its number of distinct blobs.
curl -sf -o "$WORK/big-manifest.json" \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
  "http://$REGISTRY/v2/faults/big/manifests/1" || fail "manifest of faults/big"
read -r BIG_LAYER BIG_BLOBS < <(python3 - "$WORK/big-manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
big = max(m["layers"], key=lambda l: l["size"])["digest"]
print(big, len({l["digest"] for l in m["layers"]} | {m["config"]["digest"]}))
PY
)
[[ $BIG_LAYER == sha256:* && $BIG_BLOBS -ge 2 ]] || fail "faults/big: layer $BIG_LAYER, $BIG_BLOBS blobs"
BIG_REF=$PROXY/faults/big:1
SMALL_REF=$PROXY/faults/small:1
BLOB_PATH="/v2/faults/big/blobs/$BIG_LAYER"
# Rules for GETs of the big layer, one per argument (the action's fields).
blob_rules() {
  local rules="" sep="" fields
  for fields in "$@"; do
    rules+="$sep{\"method\": \"GET\", \"path\": \"/blobs/$BIG_LAYER\$\", $fields}"
    sep=", "
  done
  faults "[$rules]"
}

# The proxy itself: the TLS probe is refused at once, a clean pull works.
step "clean pull through the proxy"
fresh_store clean
faults '[]'
must_succeed pull "$SMALL_REF"
in_log "^t=[0-9.]+ TLS .*end=tls-refused" "mason's https probe did not reach the proxy"
[[ $(digest_of "$SMALL_REF") == "$SMALL_DIGEST" ]] || fail "clean pull: digest"

# 1. A connection cut once in the middle of the big layer: resumed with
# Range from exactly the bytes received, same digest, the image runs.
step "1. cut once mid-blob: resume"
fresh_store cut-once
blob_rules '"action": "cut", "bytes": 1000000, "times": 1'
must_succeed pull "$BIG_REF"
in_log "GET $BLOB_PATH range=- status=200 fault=cut sent=1000000 end=cut" "the cut did not happen"
in_log "GET $BLOB_PATH range=bytes=1000000- status=206 fault=- .*end=ok" "the pull did not resume with Range"
[[ $(count "GET $BLOB_PATH ") == 2 ]] || { cat "$LOG"; fail "resume: not exactly 2 GETs of the layer"; }
[[ $(digest_of "$BIG_REF") == "$BIG_DIGEST" ]] || fail "resumed pull: digest"
[[ $("$MASON" run --rm "$BIG_REF" sha256sum /big.bin | cut -d' ' -f1) == "$BIG_SHA" ]] ||
  fail "resumed pull: /big.bin differs"

# A resume the server does not honour: answered 200 with the whole blob
# (Range ignored), or 416. Either way the blob starts over from byte 0.
step "1b. cut once, the resume answered 200 (Range ignored)"
fresh_store cut-200
blob_rules '"action": "cut", "bytes": 1000000, "times": 1' '"action": "no_range", "times": 1'
must_succeed pull "$BIG_REF"
in_log "GET $BLOB_PATH range=bytes=1000000- status=200 fault=no_range sent=[0-9]+ end=ok" "the resume was not answered 200"
[[ $(count "GET $BLOB_PATH ") == 2 ]] || { cat "$LOG"; fail "Range ignored: not exactly 2 GETs of the layer"; }
[[ $(digest_of "$BIG_REF") == "$BIG_DIGEST" ]] || fail "Range ignored: digest"

step "1c. cut once, the resume answered 416"
fresh_store cut-416
blob_rules '"action": "cut", "bytes": 1000000, "times": 1' \
  '"action": "status", "status": 416, "code": "RANGE_INVALID", "times": 1'
must_succeed pull "$BIG_REF"
in_log "GET $BLOB_PATH range=bytes=1000000- status=416 fault=status" "the resume was not answered 416"
in_log "GET $BLOB_PATH range=- status=200 fault=- .*end=ok" "the blob did not start over after the 416"
[[ $(count "GET $BLOB_PATH ") == 3 ]] || { cat "$LOG"; fail "416: not exactly 3 GETs of the layer"; }
[[ $(digest_of "$BIG_REF") == "$BIG_DIGEST" ]] || fail "416: digest"
[[ -z $(ls -A "$MASON_ROOT/ingest") ]] || fail "416: ingest files left"

# 2. Cut on every attempt: a bounded number of tries, then an error naming
# the reference and the registry; nothing partial stays in the store.
step "2. cut on every attempt"
fresh_store cut-always
blob_rules '"action": "cut", "bytes": 500000'
must_fail pull "$BIG_REF"
names_ref_and_registry "$BIG_REF" "cut always"
err_has "${BIG_LAYER#sha256:}" "cut always: the error does not name the blob"
n=$(count "GET $BLOB_PATH .*end=cut")
[[ $n -ge 2 && $n -le 5 ]] || { cat "$LOG"; fail "cut always: $n attempts (want 2..5)"; }
in_log "GET $BLOB_PATH range=bytes=500000- " "cut always: no resume attempt"
no_partial "$BIG_LAYER" "$BIG_REF" "cut always"

# 3. One flipped byte: refused as a digest mismatch naming the blob.
step "3. corrupted byte"
fresh_store corrupt
blob_rules '"action": "corrupt", "at": 4000000'
must_fail pull "$BIG_REF"
in_log "GET $BLOB_PATH range=- status=200 fault=corrupt sent=[0-9]+ end=ok" "the corrupt body was not sent"
err_has "digest mismatch" "corrupt"
err_has "${BIG_LAYER#sha256:}" "corrupt: the blob is not named"
grep -qF "$BIG_REF" "$WORK/err" || fail "corrupt: the reference is not named"
no_partial "$BIG_LAYER" "$BIG_REF" "corrupt"

# 4. 429 and 5xx are retried; 500 for ever fails, with the status and the
# registry, in bounded time.
step "4a. 429 Retry-After: 1 on the manifest, once"
fresh_store 429
faults '[{"method": "GET", "path": "/manifests/1$", "action": "status", "status": 429, "retry_after": 1, "times": 1}]'
must_succeed pull "$SMALL_REF"
in_log "GET /v2/faults/small/manifests/1 .*status=429 fault=status" "no 429 was answered"
in_log "GET /v2/faults/small/manifests/1 .*status=200 fault=-" "no retry after the 429"
[[ $(digest_of "$SMALL_REF") == "$SMALL_DIGEST" ]] || fail "429: digest"
retry_gap "GET /v2/faults/small/manifests/1 " "manifest"

step "4b. 429 Retry-After: 1 on the big layer, once"
fresh_store 429-blob
blob_rules '"action": "status", "status": 429, "retry_after": 1, "times": 1'
must_succeed pull "$BIG_REF"
in_log "GET $BLOB_PATH range=- status=429 fault=status" "no 429 was answered"
in_log "GET $BLOB_PATH range=- status=200 fault=- .*end=ok" "no retry after the 429"
retry_gap "GET $BLOB_PATH " "blob"
[[ $(digest_of "$BIG_REF") == "$BIG_DIGEST" ]] || fail "429 on a blob: digest"

step "4c. 503 twice on the big layer, then normal"
fresh_store 503
blob_rules '"action": "status", "status": 503, "times": 2'
must_succeed pull "$BIG_REF"
[[ $(count "GET $BLOB_PATH .*status=503") == 2 ]] || { cat "$LOG"; fail "503: not answered twice"; }
in_log "GET $BLOB_PATH range=- status=200 fault=- .*end=ok" "503: no successful retry"
[[ $(digest_of "$BIG_REF") == "$BIG_DIGEST" ]] || fail "503: digest"

step "4d. 500 on every manifest request"
fresh_store 500
faults '[{"path": "/manifests/", "action": "status", "status": 500}]'
must_fail pull "$SMALL_REF"
err_has "500" "500"
names_ref_and_registry "$SMALL_REF" "500"
n=$(count "/manifests/.*status=500")
[[ $n -ge 2 && $n -le 5 ]] || { cat "$LOG"; fail "500: $n attempts (want 2..5)"; }
faster_than 15 "500"

step "4e. 503 with Retry-After: 3600: not waited for, not retried"
for what in manifest blob; do
  fresh_store "503-long-$what"
  if [[ $what == manifest ]]; then
    faults '[{"path": "/manifests/", "action": "status", "status": 503, "retry_after": 3600}]'
    ref=$SMALL_REF pattern="/manifests/.*status=503"
  else
    blob_rules '"action": "status", "status": 503, "retry_after": 3600'
    ref=$BIG_REF pattern="GET $BLOB_PATH .*status=503"
  fi
  must_fail pull "$ref"
  err_has "503" "503 Retry-After: 3600 ($what)"
  err_has "Retry-After: 3600" "503 Retry-After: 3600 ($what)"
  names_ref_and_registry "$ref" "503 Retry-After: 3600 ($what)"
  [[ $(count "$pattern") == 1 ]] || { cat "$LOG"; fail "503 Retry-After: 3600 ($what): retried"; }
  faster_than 5 "503 Retry-After: 3600 ($what)"
done

step "4f. 502 on every request for the big layer"
fresh_store 502
blob_rules '"action": "status", "status": 502'
must_fail pull "$BIG_REF"
err_has "502" "502"
names_ref_and_registry "$BIG_REF" "502"
n=$(count "GET $BLOB_PATH .*status=502")
[[ $n -ge 2 && $n -le 5 ]] || { cat "$LOG"; fail "502: $n attempts (want 2..5)"; }
no_partial "$BIG_LAYER" "$BIG_REF" "502"

# 5. 401, 403, 404 on the manifest: not retried (at most 2 requests), fast,
# errors naming the reference and the registry.
for status in 401 403 404; do
  step "5. $status on the manifest"
  fresh_store "s$status"
  faults "[{\"path\": \"/manifests/\", \"action\": \"status\", \"status\": $status}]"
  must_fail pull "$SMALL_REF"
  names_ref_and_registry "$SMALL_REF" "$status"
  case $status in
  401) err_has "401|unauthori[sz]ed|authentication required" "401" ;;
  403) err_has "403" "403" ;;
  404) err_has "404" "404" ;;
  esac
  n=$(count "/manifests/.*status=$status")
  [[ $n -ge 1 && $n -le 2 ]] || { cat "$LOG"; fail "$status: $n requests (want 1..2)"; }
  faster_than 5 "$status"
  no_partial "$SMALL_DIGEST" "$SMALL_REF" "$status"
done

# 6. The registry killed in the middle of the big layer. The proxy stops
# after 256 KiB ("hold": it stops reading, so the registry blocks with most
# of the blob unsent), the registry gets SIGKILL, then the proxy relays what
# the dead registry had sent and cuts the connection where it ended.
kill_registry_mid_blob() {
  blob_rules '"action": "hold", "bytes": 262144, "times": 1'
  "$MASON" pull "$BIG_REF" >"$WORK/out" 2>"$WORK/err" &
  PULL_PID=$!
  BG_PIDS+=("$PULL_PID")
  for _ in $(seq 1 200); do grep -q "^hold .*$BLOB_PATH" "$LOG" && break; sleep 0.05; done
  grep -q "^hold .*$BLOB_PATH" "$LOG" || { cat "$LOG" "$WORK/err" >&2; fail "the blob download was not held"; }
  # The other blobs (config, busybox layer) complete first, so that the
  # kill can only hit the big layer.
  for _ in $(seq 1 200); do
    [[ $(count "GET /v2/faults/big/blobs/sha256:[0-9a-f]+ range=- status=200 .*end=ok") == "$((BIG_BLOBS - 1))" ]] && break
    sleep 0.05
  done
  [[ $(count "GET /v2/faults/big/blobs/sha256:[0-9a-f]+ range=- status=200 .*end=ok") == "$((BIG_BLOBS - 1))" ]] ||
    { cat "$LOG" >&2; fail "the other blobs did not complete"; }
  kill -9 "$REGISTRY_PID"
  set +e
  wait "$REGISTRY_PID" 2>/dev/null # its status is "Killed"
  set -e
  ! kill -0 "$REGISTRY_PID" 2>/dev/null || fail "the registry survived SIGKILL"
  REGISTRY_PID=""
}
# Starts docker-registry again, on the same address, config and storage.
restart_registry() {
  docker-registry serve "$WORK/registry/config.yml" >>"$WORK/registry/log" 2>&1 &
  REGISTRY_PID=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://$REGISTRY/v2/" && return 0
    sleep 0.1
  done
  cat "$WORK/registry/log" >&2
  fail "docker-registry did not restart"
}
wait_pull() {
  set +e
  wait "$PULL_PID"
  PULL_RC=$?
  set -e
  BG_PIDS=()
}

step "6a. registry killed mid-blob"
fresh_store killed
kill_registry_mid_blob
release
wait_pull
[[ $PULL_RC -ne 0 ]] || fail "the pull succeeded with the registry dead"
echo "    mason pull failed (exit $PULL_RC): $(tail -1 "$WORK/err")"
in_log "GET $BLOB_PATH range=- status=200 fault=hold sent=[0-9]+ end=upstream-short" \
  "the registry's death did not cut the blob"
sent=$(sed -n "s|.*GET $BLOB_PATH range=- .*fault=hold sent=\([0-9]*\) end=upstream-short|\1|p" "$LOG")
[[ $sent -gt 262144 && $sent -lt $BIG_SIZE ]] || fail "killed registry: $sent bytes sent"
in_log "GET $BLOB_PATH range=bytes=$sent- status=000 .*end=upstream-down" "no resume attempt after the kill"
names_ref_and_registry "$BIG_REF" "registry killed"
no_partial "$BIG_LAYER" "$BIG_REF" "registry killed"

step "6b. registry killed mid-blob and restarted at once: resumed"
restart_registry
fresh_store killed-restarted
kill_registry_mid_blob
restart_registry
release
wait_pull
[[ $PULL_RC -eq 0 ]] || { cat "$WORK/err" "$LOG" >&2; fail "pull across a registry restart"; }
in_log "GET $BLOB_PATH range=- status=200 fault=hold sent=[0-9]+ end=upstream-short" \
  "the registry's death did not cut the blob"
sent=$(sed -n "s|.*GET $BLOB_PATH range=- .*fault=hold sent=\([0-9]*\) end=upstream-short|\1|p" "$LOG")
in_log "GET $BLOB_PATH range=bytes=$sent- status=206 fault=- .*end=ok" "not resumed from byte $sent"
[[ $(digest_of "$BIG_REF") == "$BIG_DIGEST" ]] || fail "restarted registry: digest"
[[ $("$MASON" run --rm "$BIG_REF" sha256sum /big.bin | cut -d' ' -f1) == "$BIG_SHA" ]] ||
  fail "restarted registry: /big.bin differs"

# 7. Push: the blob upload's PUT answered 500 once is retried (from a new
# upload session) and the registry ends up with the same digest; a
# manifest PUT answered 403 fails naming the destination, once.
step "7a. push: upload PUT answered 500 once"
export MASON_ROOT=$STORE
"$MASON" tag faults/big "$PROXY/faults/pushed:1"
faults '[{"method": "PUT", "path": "/blobs/uploads/", "action": "status", "status": 500, "times": 1}]'
must_succeed push "$PROXY/faults/pushed:1"
pushed=$(sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p' "$WORK/out")
[[ $pushed == "$BIG_DIGEST" ]] || fail "push after a 500: digest $pushed, want $BIG_DIGEST"
in_log "PUT /v2/faults/pushed/blobs/uploads/.* status=500 fault=status" "no upload was answered 500"
[[ $(count "PUT /v2/faults/pushed/blobs/uploads/.* status=201 ") -ge 1 ]] || fail "no upload retried"
[[ $(count "POST /v2/faults/pushed/blobs/uploads/ .*status=202") -ge 2 ]] || fail "no new upload session"
[[ $(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/faults/pushed:1") == "$BIG_DIGEST" ]] ||
  fail "skopeo sees another digest after the retried push"
fresh_store push-check
must_succeed pull "$REGISTRY/faults/pushed:1"
[[ $(digest_of "$REGISTRY/faults/pushed:1") == "$BIG_DIGEST" ]] || fail "pull of the retried push: digest"

step "7b. push: manifest PUT answered 403"
export MASON_ROOT=$STORE
"$MASON" tag faults/big "$PROXY/faults/denied:1"
faults '[{"method": "PUT", "path": "/manifests/", "action": "status", "status": 403, "message": "requested access to the resource is denied"}]'
must_fail push "$PROXY/faults/denied:1"
err_has "403" "manifest 403"
names_ref_and_registry "$PROXY/faults/denied:1" "manifest 403"
[[ $(count "PUT /v2/faults/denied/manifests/") == 1 ]] || { cat "$LOG"; fail "403 manifest PUT retried"; }
for ref in "faults/denied:1" "faults/denied@$BIG_DIGEST"; do
  if skopeo inspect --tls-verify=false "docker://$REGISTRY/$ref" >/dev/null 2>&1; then
    fail "the refused manifest is in the registry as $ref"
  fi
done

step "done"
echo "registry_faults: ok"
