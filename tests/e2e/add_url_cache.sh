#!/usr/bin/env bash
# ADD <url> without --checksum is cached by what it downloads (as BuildKit's
# http source): the same bytes from the server give CACHED steps and the
# same image; new bytes rerun the ADD and what follows it, and the miss
# names the URL; a failing download fails the build naming the URL.
source "$(dirname "$0")/lib.sh"
import_busybox

mkdir -p "$WORK/www"
echo "tool v1" >"$WORK/www/tool.txt"
touch -d '2024-01-02 03:04:05' "$WORK/www/tool.txt"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/www" >"$WORK/http.log" 2>&1 &
HTTP_PID=$!
trap 'kill $HTTP_PID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done
url="http://127.0.0.1:$port/tool.txt"

ctx=$(context url <<DF
FROM busybox
ADD $url /opt/tool.txt
RUN cat /opt/tool.txt > /out
DF
)
build() {
  "$MASON" build --progress plain --iidfile "$WORK/iid" -t urlcache "$ctx" >"$WORK/log" 2>&1 ||
    { cat "$WORK/log"; fail "build"; }
  IID=$(cat "$WORK/iid")
}
cached() { grep -c '^#[0-9]* CACHED' "$WORK/log" || true; }

build
[[ $(cached) -eq 0 ]] || { cat "$WORK/log"; fail "a first build hit the cache"; }
first=$IID
[[ $("$MASON" run --rm urlcache cat /out) == "tool v1" ]] || fail "first content"

# The same bytes: ADD and RUN are CACHED, the image is the same.
build
[[ $(cached) -eq 2 ]] || { cat "$WORK/log"; fail "an unchanged URL was not cached"; }
[[ $IID == "$first" ]] || fail "an unchanged URL gave another image"

# New bytes: both rerun, the miss names the URL, the image has them.
echo "tool v2" >"$WORK/www/tool.txt"
build
[[ $(cached) -eq 0 ]] || { cat "$WORK/log"; fail "a changed URL hit the cache"; }
grep -q "cache miss: remote source changed: $url" "$WORK/log" || { cat "$WORK/log"; fail "miss reason"; }
[[ $("$MASON" run --rm urlcache cat /out) == "tool v2" ]] || fail "the new content is not in the image"
[[ $IID != "$first" ]] || fail "a changed URL gave the old image"

# A download that fails fails the build, naming the URL.
rm "$WORK/www/tool.txt"
if "$MASON" build --progress plain -t urlcache "$ctx" >"$WORK/log" 2>&1; then
  fail "a 404 built"
fi
grep -q "$url" "$WORK/log" && grep -q 404 "$WORK/log" || { cat "$WORK/log"; fail "the 404 error does not name the URL"; }
echo "add_url_cache: ok"
