#!/usr/bin/env python3
"""Writes credwatch's bundled sample container logs (deterministic; run from the repo root).

The kubelet's layouts, as a node keeps them: `/var/log/pods/<ns>_<pod>_<uid>/<container>/N.log`
(CRI format, as containerd writes it) and `/var/log/containers/<pod>_<ns>_<container>-<id>.log`
(Docker json-file). Pod default/web-0 is the one whose logs the sample audit logs show being
read (samples/audit); its logs leak a database URL with a password and an AWS key pair, so
`hunt --scan` can show that read as `exposed`. Every credential here is fake.
"""
import gzip
import json
import os

OUT = "samples/container-logs"
WEB = os.path.join(OUT, "var/log/pods/default_web-0_6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b/web")
ID = "4f2a9c1e7b3d5f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a"
SHOP = os.path.join(OUT, "var/log/containers")


def cri(t, text, stream="stdout", tag="F"):
    return f"2026-10-14T09:{t} {stream} {tag} {text}\n"


web = [
    cri("00:01.104233871Z", "Starting web 2.4.1 (commit 9f3c2e1)"),
    cri("00:01.215877120Z", "Loading configuration from /etc/web/config.yaml"),
    cri("00:01.330012447Z", "DEBUG database url=postgres://web:Qm7vX2pLk9Rt4wZs@orders-db.default.svc:5432/orders"),
    cri("00:01.402289930Z", "Connected to orders-db.default.svc:5432 (pool size 10)"),
    cri("00:01.517790241Z", "DEBUG aws credentials: AWS_ACCESS_KEY_ID=AKIAR7TQ4WSY3ZP6XN2M AWS_SECRET_ACCESS_KEY=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", "stderr"),
    cri("00:02.001994511Z", 'GET /healthz 200 0.4ms "kube-probe/1.30"'),
    cri("00:05.448120093Z", 'GET /api/orders?page=2 200 12.9ms "Mozilla/5.0"'),
    cri("00:07.893311624Z", "password reset email sent to user 4117"),
    cri("00:09.117204450Z", 'GET /healthz 200 0.3ms "kube-probe/1.30"'),
]
os.makedirs(WEB, exist_ok=True)
with open(os.path.join(WEB, "0.log"), "w") as f:
    f.writelines(web)
# The rotated log, gzip-compressed as the kubelet leaves it; mtime fixed so the file is stable.
rotated = [cri("58:59.204411873Z", "Starting web 2.4.0 (commit 1a2b3c4)"),
           cri("59:00.118263990Z", "using AKIAIOSFODNN7EXAMPLE from the docs for the smoke test")]
with open(os.path.join(WEB, "0.log.20261014-090000.gz"), "wb") as raw:
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write("".join(rotated).encode())

os.makedirs(SHOP, exist_ok=True)
lines = [
    "10.0.4.17 - - [14/Oct/2026:09:00:03 +0000] \"GET /cart HTTP/1.1\" 200 5123 \"-\" \"Mozilla/5.0\"",
    "10.0.4.17 - - [14/Oct/2026:09:00:04 +0000] \"GET /static/app.3f9c2e.js HTTP/1.1\" 200 88211 \"https://shop.example.com/cart\" \"Mozilla/5.0\"",
    "2026/10/14 09:00:05 [warn] 7#7: *19 upstream server temporarily disabled while reading response header from upstream",
]
with open(os.path.join(SHOP, f"cart-7c9d8f6b5-q2w3e_shop_nginx-{ID}.log"), "w") as f:
    for i, line in enumerate(lines):
        f.write(json.dumps({"log": line + "\n", "stream": "stdout", "time": f"2026-10-14T09:00:0{3 + i}.000000000Z"},
                           separators=(",", ":")) + "\n")
