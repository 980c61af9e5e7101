#!/usr/bin/env bash
# What `credwatch docker-proxy` costs a Docker client, measured against a real dockerd in one
# run: the same calls directly and through the proxy, rounds alternating so both see the same
# machine noise.
#
#   latency:    ROUNDS × 1,000 keep-alive `GET /containers/json` (python http.client over the
#               Unix socket); median per-request latency, and the ratio proxy/direct (target ≤ 1.3)
#   throughput: ROUNDS × a 100 MB `GET /containers/big/archive?path=/data.bin` read to the end,
#               and `docker cp big:/data.bin -`; median MB/s and the ratio proxy/direct (target ≥ 0.8)
#
# Needs root, dockerd (Debian docker.io), docker, busybox and python3 — what .ci/run installs.
# Usage: bench/docker_proxy.sh [ROUNDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
for tool in dockerd docker busybox python3; do
  command -v "$tool" >/dev/null || { echo "bench/docker_proxy.sh needs $tool (apt-get install docker.io busybox-static python3)" >&2; exit 1; }
done
cargo build --release --quiet
bin=target/release/credwatch

D=$(mktemp -d /tmp/cwbench.XXXXXX)
cleanup() {
  [ -n "${proxy_pid:-}" ] && kill "$proxy_pid" 2>/dev/null || true
  docker -H "unix://$D/docker.sock" rm -f big >/dev/null 2>&1 || true
  [ -f "$D/docker.pid" ] && kill "$(cat "$D/docker.pid")" 2>/dev/null || true
  sleep 1
  rm -rf "$D" 2>/dev/null || true
}
trap cleanup EXIT

dockerd --host "unix://$D/docker.sock" --data-root "$D/data" --exec-root "$D/exec" \
  --pidfile "$D/docker.pid" --iptables=false --ip6tables=false --bridge=none \
  --storage-driver=vfs --shutdown-timeout=1 >"$D/dockerd.log" 2>&1 &
direct="unix://$D/docker.sock"
for _ in $(seq 100); do docker -H "$direct" version >/dev/null 2>&1 && break; sleep 0.2; done
mkdir -p "$D/rootfs/bin" "$D/rootfs/tmp" && cp "$(command -v busybox)" "$D/rootfs/bin/" &&
  (cd "$D/rootfs/bin" && for c in sh head sleep cat; do ln -sf busybox $c; done)
tar -C "$D/rootfs" -c . | docker -H "$direct" import - local/busybox:1 >/dev/null
docker -H "$direct" run -d --name big local/busybox:1 \
  sh -c 'head -c 104857600 /dev/urandom > /data.bin && echo ready && exec sleep 3600' >/dev/null
until docker -H "$direct" logs big 2>/dev/null | grep -q ready; do sleep 0.2; done

"$bin" docker-proxy --listen "unix:$D/proxy.sock" --upstream "unix:$D/docker.sock" \
  --events "$D/events.jsonl" 2>"$D/proxy.err" &
proxy_pid=$!
for _ in $(seq 100); do [ -S "$D/proxy.sock" ] && break; sleep 0.05; done
proxied="unix://$D/proxy.sock"

cat >"$D/client.py" <<'EOF'
import http.client, socket, sys, time

class Unix(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("docker")
        self.path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)

mode, path = sys.argv[1], sys.argv[2]
conn = Unix(path)
if mode == "latency":
    times = []
    for _ in range(1000):
        t = time.perf_counter()
        conn.request("GET", "/v1.41/containers/json")
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        times.append(time.perf_counter() - t)
    times.sort()
    print(times[len(times) // 2] * 1e6)          # median µs
else:
    t = time.perf_counter()
    conn.request("GET", "/v1.41/containers/big/archive?path=/data.bin")
    r = conn.getresponse()
    n = 0
    while True:
        chunk = r.read(1 << 20)
        if not chunk:
            break
        n += len(chunk)
    assert r.status == 200 and n > 100_000_000, (r.status, n)
    print(n / (time.perf_counter() - t) / 1e6)    # MB/s
EOF

lat_direct=() lat_proxy=() tp_direct=() tp_proxy=() cp_direct=() cp_proxy=()
cp_rate() { # host → MB/s of `docker cp big:/data.bin -`
  local start end
  start=$(date +%s.%N)
  docker -H "$1" cp big:/data.bin - >/dev/null
  end=$(date +%s.%N)
  python3 -c "print(104857600 / ($end - $start) / 1e6)"
}
for r in $(seq "$rounds"); do
  lat_direct+=("$(python3 "$D/client.py" latency "$D/docker.sock")")
  lat_proxy+=("$(python3 "$D/client.py" latency "$D/proxy.sock")")
  tp_direct+=("$(python3 "$D/client.py" throughput "$D/docker.sock")")
  tp_proxy+=("$(python3 "$D/client.py" throughput "$D/proxy.sock")")
  cp_direct+=("$(cp_rate "$direct")")
  cp_proxy+=("$(cp_rate "$proxied")")
  echo "round $r/$rounds done" >&2
done

source bench/lib.sh
m() { printf '%s\n' "$@" | median; }
ld=$(m "${lat_direct[@]}") lp=$(m "${lat_proxy[@]}")
td=$(m "${tp_direct[@]}") tq=$(m "${tp_proxy[@]}")
cd_=$(m "${cp_direct[@]}") cq=$(m "${cp_proxy[@]}")
events=$(wc -l <"$D/events.jsonl")
python3 - "$ld" "$lp" "$td" "$tq" "$cd_" "$cq" "$rounds" "$events" <<'EOF'
import sys
ld, lp, td, tq, cd, cq = map(float, sys.argv[1:7])
rounds, events = sys.argv[7], sys.argv[8]
print(f"docker-proxy overhead, {rounds} rounds alternating, medians ({events} events recorded)")
print(f"  GET /containers/json latency   direct {ld:8.1f} µs   proxy {lp:8.1f} µs   ratio {lp/ld:5.2f}x  (target <= 1.3)")
print(f"  100 MB archive GET throughput  direct {td:8.1f} MB/s proxy {tq:8.1f} MB/s ratio {tq/td:5.2f}x  (target >= 0.8)")
print(f"  100 MB docker cp throughput    direct {cd:8.1f} MB/s proxy {cq:8.1f} MB/s ratio {cq/cd:5.2f}x  (target >= 0.8)")
EOF
