#!/usr/bin/env bash
# ADD <url> without --checksum is cached by what it downloads (as BuildKit's
# http source): the same bytes from the server give CACHED steps and the
# same image; new bytes rerun the ADD and what follows it, and the miss
# names the URL; a failing download fails the build naming the URL. A
# server that sends ETags is asked with If-None-Match and a 304 answers
# the key without a download; a step that must run after a 304 fetches
# the bytes again.
source "$(dirname "$0")/lib.sh"
import_busybox

mkdir -p "$WORK/www"
echo "tool v1" >"$WORK/www/tool.txt"
touch -d '2024-01-02 03:04:05' "$WORK/www/tool.txt"
# A file server: Last-Modified always; ETag (the content's sha256) and 304
# on a matching If-None-Match for paths under /etag/; one log line per
# request: "<path> <status>".
cat >"$WORK/server.py" <<'PY'
import hashlib, http.server, os, sys, email.utils
root, log = sys.argv[2], open(sys.argv[3], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        etag = self.path.startswith("/etag/")
        path = os.path.join(root, os.path.basename(self.path))
        if not os.path.isfile(path):
            log.write(f"{self.path} 404\n"); self.send_error(404); return
        data = open(path, "rb").read()
        tag = '"' + hashlib.sha256(data).hexdigest() + '"'
        if etag and self.headers.get("If-None-Match") == tag:
            log.write(f"{self.path} 304\n")
            self.send_response(304); self.send_header("ETag", tag); self.end_headers(); return
        log.write(f"{self.path} 200\n")
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Last-Modified", email.utils.formatdate(os.stat(path).st_mtime, usegmt=True))
        if etag: self.send_header("ETag", tag)
        self.end_headers(); self.wfile.write(data)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$WORK/server.py" "$port" "$WORK/www" "$WORK/requests" 2>"$WORK/server.err" &
HTTP_PID=$!
trap 'kill $HTTP_PID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/tool.txt" && break
  sleep 0.1
done
: >"$WORK/requests"

# build NAME URL [build flags]: builds a Dockerfile that ADDs URL after a
# RUN using the build arg V; IID the image ID, CACHED the number of hits.
build() {
  local ctx
  ctx=$(context "$1" <<DF
FROM busybox
ARG V=1
RUN echo "\$V" >/v
ADD $2 /opt/tool.txt
RUN cat /opt/tool.txt > /out
DF
)
  "$MASON" build --progress plain --iidfile "$WORK/iid" -t urlcache "${@:3}" "$ctx" >"$WORK/log" 2>&1 ||
    { cat "$WORK/log"; fail "build $1"; }
  IID=$(cat "$WORK/iid")
  CACHED=$(grep -c '^#[0-9]* CACHED' "$WORK/log" || true)
}
requests() { grep -c "^$1 $2\$" "$WORK/requests" || true; }

url="http://127.0.0.1:$port/tool.txt"
build plain "$url"
[[ $CACHED -eq 0 ]] || { cat "$WORK/log"; fail "a first build hit the cache"; }
first=$IID
[[ $("$MASON" run --rm urlcache cat /out) == "tool v1" ]] || fail "first content"

# The same bytes: ADD and what follows are CACHED, the image is the same
# (without an ETag the server is asked for the whole body each build).
build plain "$url"
[[ $CACHED -eq 3 ]] || { cat "$WORK/log"; fail "an unchanged URL was not cached"; }
[[ $IID == "$first" ]] || fail "an unchanged URL gave another image"
[[ $(requests /tool.txt 200) -eq 2 ]] || { cat "$WORK/requests"; fail "downloads without ETag"; }

# New bytes: ADD and the RUN after it rerun, the miss names the URL.
echo "tool v2" >"$WORK/www/tool.txt"
build plain "$url"
[[ $CACHED -eq 1 ]] || { cat "$WORK/log"; fail "a changed URL hit the cache"; }
grep -q "cache miss: remote source changed: $url" "$WORK/log" || { cat "$WORK/log"; fail "miss reason"; }
[[ $("$MASON" run --rm urlcache cat /out) == "tool v2" ]] || fail "the new content is not in the image"
[[ $IID != "$first" ]] || fail "a changed URL gave the old image"

# With ETags: the second build revalidates (304) and downloads nothing.
etag_url="http://127.0.0.1:$port/etag/tool.txt"
build etag "$etag_url"
[[ $(requests /etag/tool.txt 200) -eq 1 ]] || { cat "$WORK/requests"; fail "first ETag download"; }
etag_first=$IID
build etag "$etag_url"
[[ $CACHED -eq 3 ]] || { cat "$WORK/log"; fail "a revalidated URL was not cached"; }
[[ $IID == "$etag_first" ]] || fail "a revalidated URL gave another image"
[[ $(requests /etag/tool.txt 304) -eq 1 && $(requests /etag/tool.txt 200) -eq 1 ]] ||
  { cat "$WORK/requests"; fail "the second build did not revalidate with If-None-Match"; }
# A step before the ADD changes: the ADD runs after a 304 and fetches the bytes.
build etag "$etag_url" --build-arg V=2
[[ $CACHED -eq 0 ]] || { cat "$WORK/log"; fail "steps after a changed RUN were cached"; }
[[ $(requests /etag/tool.txt 304) -eq 2 && $(requests /etag/tool.txt 200) -eq 2 ]] ||
  { cat "$WORK/requests"; fail "ADD after a 304 did not fetch the bytes"; }
[[ $("$MASON" run --rm urlcache cat /out) == "tool v2" ]] || fail "content after a 304"
# New bytes behind the ETag URL: 200, rerun.
echo "tool v3" >"$WORK/www/tool.txt"
build etag "$etag_url" --build-arg V=2
[[ $CACHED -eq 1 ]] || { cat "$WORK/log"; fail "a changed ETag URL hit the cache"; }
[[ $("$MASON" run --rm urlcache cat /out) == "tool v3" ]] || fail "content after an ETag change"

# A download that fails fails the build, naming the URL.
rm "$WORK/www/tool.txt"
ctx=$(context gone <<DF
FROM busybox
ADD $url /opt/tool.txt
DF
)
if "$MASON" build --progress plain -t urlcache "$ctx" >"$WORK/log" 2>&1; then
  fail "a 404 built"
fi
grep -q "$url" "$WORK/log" && grep -q 404 "$WORK/log" || { cat "$WORK/log"; fail "the 404 error does not name the URL"; }
echo "add_url_cache: ok"
