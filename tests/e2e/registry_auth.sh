#!/usr/bin/env bash
# Registry auth and TLS end to end: a loopback docker-registry with htpasswd
# basic auth behind a self-signed certificate. mason login (password on
# stdin) writes $DOCKER_CONFIG/config.json as docker does; push and pull
# then work; a wrong password is refused naming the registry; logout
# removes the entry; the certificate is trusted through --registry-ca and
# refused without it.
source "$(dirname "$0")/lib.sh"
need htpasswd; need openssl
import_busybox
export DOCKER_CONFIG=$WORK/docker-config

d=$WORK/registry-auth
mkdir -p "$d"
htpasswd -Bbn alice s3cret >"$d/htpasswd" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
REGISTRY_HTTP_EXTRA="  tls:
    certificate: $d/cert.pem
    key: $d/key.pem"
REGISTRY_EXTRA="auth:
  htpasswd:
    realm: mason-e2e
    path: $d/htpasswd"
start_registry
m() { "$MASON" --registry-ca "$d/cert.pem" "$@"; }

# Untrusted certificate: refused.
"$MASON" tag busybox "$REGISTRY/private/bb:1"
set +e
echo s3cret | "$MASON" login "$REGISTRY" -u alice --password-stdin 2>"$WORK/err"; rc=$?
set -e
[[ $rc -ne 0 ]] || fail "login over an untrusted certificate succeeded"

# Wrong password: refused, nothing written.
set +e
echo wrong | m login "$REGISTRY" -u alice --password-stdin 2>"$WORK/err"; rc=$?
set -e
[[ $rc -ne 0 ]] && grep -q "$REGISTRY" "$WORK/err" || { cat "$WORK/err"; fail "wrong password not refused"; }
if [[ -s $DOCKER_CONFIG/config.json ]] && grep -q "$REGISTRY" "$DOCKER_CONFIG/config.json"; then
  fail "refused login was saved"
fi

# Anonymous push: refused.
set +e
m push -q "$REGISTRY/private/bb:1" 2>"$WORK/err"; rc=$?
set -e
[[ $rc -ne 0 ]] || fail "anonymous push succeeded"

echo s3cret | m login "$REGISTRY" -u alice --password-stdin | grep -q "Login Succeeded" || fail "login"
python3 - "$DOCKER_CONFIG/config.json" "$REGISTRY" <<'PY' || fail "config.json entry"
import base64, json, sys
c = json.load(open(sys.argv[1]))
assert base64.b64decode(c["auths"][sys.argv[2]]["auth"]) == b"alice:s3cret", c
PY
[[ $(stat -c %a "$DOCKER_CONFIG/config.json") == 600 ]] || fail "config.json mode"
m push -q "$REGISTRY/private/bb:1" >/dev/null || fail "authenticated push"
MASON_ROOT=$WORK/store2 m pull "$REGISTRY/private/bb:1" >/dev/null || fail "authenticated pull"
[[ $(MASON_ROOT=$WORK/store2 "$MASON" run --rm "$REGISTRY/private/bb:1" echo hi) == hi ]] || fail "pulled image"

m logout "$REGISTRY" | grep -q "Removing login credentials" || fail "logout"
set +e
MASON_ROOT=$WORK/store3 m pull "$REGISTRY/private/bb:1" 2>"$WORK/err"; rc=$?
set -e
[[ $rc -ne 0 ]] && grep -qi "unauthorized\|401\|authentication required" "$WORK/err" || { cat "$WORK/err"; fail "pull after logout"; }
echo "registry_auth: ok"
