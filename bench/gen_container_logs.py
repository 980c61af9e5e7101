#!/usr/bin/env python3
"""Benign container logs for `bench/scan.sh`: seeded, deterministic, and free of credentials.

    bench/gen_container_logs.py --out DIR --size-mb N --seed S [--jobs J]

writes about N MB (10^6 bytes) of logs in the kubelet's layout,

    DIR/var/log/pods/<namespace>_<pod>_<pod uid>/<container>/0.log

for 40 containers in 8 namespaces of a small shop's cluster (control plane, ingress-nginx, Istio,
monitoring, cert-manager, Argo CD, the shop's services with their Envoy sidecars, its data
stores). Half of the containers are written as containerd writes CRI logs
(`<RFC3339Nano> stdout F <message>`, a message over 16 KiB split into `P` lines and a final `F`),
the other half as Docker's json-file driver does (`{"log":"<message>\\n","stream":…,"time":…}`,
the message escaped with json.dumps plus Docker's escaping of <, > and &, a message over 16 KiB
split into entries whose `log` has no final newline).

The messages are what such clusters print: nginx and Envoy access logs with URLs and user agents,
zap, pino and logrus application logs, klog lines from controllers (which name Secrets, tokens and
service accounts the way real ones do, at a real low rate), Spring Boot logs with Java stack
traces, a recovered Go panic now and then, Python tracebacks, PostgreSQL statement logs without
their values, Prometheus logfmt, git SHAs, sha256 digests, UUIDs. No line holds a credential; a
credential scanner should report nothing here.

About 280 bytes a line on average (runtime prefix included). Speed: each container draws its
lines from a pool of a few thousand messages rendered up front (timestamps and request ids are
filled in per line), so 1000 MB takes about 30 s on one core. Every container has its own random
stream seeded from (seed, namespace, pod, container): the output is byte-identical for a seed
whatever --jobs is, and does not depend on PYTHONHASHSEED.

One kind of line is there to keep scanners honest: ingress-nginx logging the Secret an ingress
annotation uses as `secret="shop/frontend-basic-auth"` (a reference, klog's structured key for a
Secret object), a few times per GB as in a real controller's log.
"""

import argparse
import calendar
import json
import os
import random
import sys
import time
from multiprocessing import Pool

START = calendar.timegm((2026, 11, 28, 10, 0, 0))  # 2026-11-28T10:00:00Z
WINDOW_S = 6 * 3600  # the logs cover about six hours
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
SPLIT = 16 * 1024  # containerd and dockerd split longer messages into partial lines
POOL_EVENTS = 3000  # rendered messages per container

# How a message prints its own clock (the application's, a little before the runtime's).
T_NONE, T_KLOG, T_ISO_MS, T_ISO_US, T_ISO_S, T_CLF, T_EPOCH_F, T_EPOCH_MS, T_SP_MS, T_COMMA_MS, \
    T_REDIS, T_SP_S, T_SLASH = range(13)
TIME = "\x01"  # marks where the message's timestamp goes
RID = "\x02"  # marks where a fresh UUID goes (request ids), filled per line
TRACE = "\x03"  # marks where a fresh 32-hex trace id goes, filled per line


# ---------------------------------------------------------------------------------------------
# Vocabulary


NODES = [
    "ip-10-0-1-23.eu-west-1.compute.internal",
    "ip-10-0-2-87.eu-west-1.compute.internal",
    "ip-10-0-3-141.eu-west-1.compute.internal",
    "ip-10-0-1-199.eu-west-1.compute.internal",
    "ip-10-0-2-14.eu-west-1.compute.internal",
    "ip-10-0-3-52.eu-west-1.compute.internal",
]
SERVICES = ["frontend", "cart", "checkout", "payments", "catalog", "orders", "shipping",
            "inventory", "recommendations", "fraud-check", "identity", "notifications"]
CATEGORIES = ["shoes", "running", "outdoor", "kids", "sale", "accessories", "jackets", "bags",
              "new-arrivals", "socks"]
SEARCH_TERMS = ["running+shoes", "rain%20jacket", "trail", "socks", "gift+card", "backpack",
                "caf%C3%A9+mug", "wool", "size+44", "waterproof+boots"]
SORTS = ["price_asc", "price_desc", "newest", "popular", "rating"]
USER_AGENTS = [
    (30, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0.0.0 Safari/537.36"),
    (14, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"),
    (10, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
         "Gecko) Version/18.1 Safari/605.1.15"),
    (10, "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0.0.0 Mobile Safari/537.36"),
    (6, "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    (5, "AcmeShop/5.12.0 (iPhone; iOS 18.1; Scale/3.00)"),
    (4, "Dalvik/2.1.0 (Linux; U; Android 14; SM-S918B Build/UP1A.231005.007)"),
    (3, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    (2, "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
    (2, "curl/8.5.0"),
    (1, "python-requests/2.32.3"),
    (1, "Go-http-client/1.1"),
]
INTERNAL_AGENTS = ["okhttp/4.12.0", "Go-http-client/1.1", "python-requests/2.32.3",
                   "Apache-HttpClient/5.3.1 (Java/21.0.5)", "grpc-go/1.68.0", "axios/1.7.7"]
STATUSES = [(800, 200), (40, 201), (30, 204), (20, 304), (12, 301), (10, 302), (25, 404),
            (10, 400), (8, 401), (4, 403), (4, 429), (3, 499), (4, 500), (2, 502), (2, 503),
            (2, 504)]
METHODS = [(80, "GET"), (12, "POST"), (3, "PUT"), (2, "DELETE"), (2, "OPTIONS"), (1, "HEAD")]
K8S_RESOURCES = ["*v1.Secret", "*v1.ConfigMap", "*v1.Pod", "*v1.Service", "*v1.Endpoints",
                 "*v1.Node", "*v1.Namespace", "*v1.ServiceAccount", "*v1.Deployment",
                 "*v1.ReplicaSet", "*v1.StatefulSet", "*v1.DaemonSet", "*v1.Ingress",
                 "*v1.PersistentVolumeClaim", "*v1.EndpointSlice", "*v1.Lease",
                 "*v1.PartialObjectMetadata", "*v1.Job", "*v1.CronJob", "*v1.Role",
                 "*v1.RoleBinding", "*v1.PriorityClass", "*v1.StorageClass",
                 "*v1.CSINode", "*v1.MutatingWebhookConfiguration"]
TABLES = {
    "orders": ["id", "customer_id", "status", "total_cents", "currency", "created_at",
               "updated_at", "shipping_address_id"],
    "order_items": ["id", "order_id", "sku", "quantity", "unit_price_cents"],
    "products": ["id", "sku", "name", "category_id", "price_cents", "stock", "updated_at"],
    "carts": ["id", "customer_id", "updated_at", "expires_at"],
    "cart_items": ["id", "cart_id", "sku", "quantity", "added_at"],
    "payments": ["id", "order_id", "provider", "status", "amount_cents", "authorized_at"],
    "customers": ["id", "email_hash", "country", "created_at", "last_seen_at"],
    "inventory": ["sku", "warehouse_id", "on_hand", "reserved", "updated_at"],
}


class Ctx:
    """Random helpers over one container's random stream."""

    def __init__(self, rng, ns, pod, container, node):
        self.rng, self.ns, self.pod, self.container, self.node = rng, ns, pod, container, node
        self.r = rng.random
        ua_w = [w for w, _ in USER_AGENTS]
        self._ua = [u for _, u in USER_AGENTS]
        self._ua_cum = _cum(ua_w)
        self._st = [s for _, s in STATUSES]
        self._st_cum = _cum([w for w, _ in STATUSES])
        self._me = [m for _, m in METHODS]
        self._me_cum = _cum([w for w, _ in METHODS])
        self.pod_ips = ["10.244.%d.%d" % (rng.randrange(0, 6), rng.randrange(2, 250))
                        for _ in range(40)]

    def pick(self, seq):
        return seq[int(self.r() * len(seq))]

    def wpick(self, weighted):
        """One of [(weight, value), ...] by weight."""
        x = self.r() * sum(w for w, _ in weighted)
        for w, v in weighted:
            x -= w
            if x < 0:
                return v
        return weighted[-1][1]

    def n(self, a, b):
        return self.rng.randint(a, b)

    def hex(self, n):
        return "%0*x" % (n, self.rng.getrandbits(4 * n))

    def uuid(self):
        h = "%032x" % self.rng.getrandbits(128)
        return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) & 3],
                                      h[17:20], h[20:])

    def sha(self):
        return self.hex(40)

    def digest(self):
        return "sha256:" + self.hex(64)

    def ip(self):
        return self.pick(self.pod_ips)

    def port(self):
        return self.n(32768, 60999)

    def ua(self):
        return _weighted(self._ua, self._ua_cum, self.r())

    def status(self):
        return _weighted(self._st, self._st_cum, self.r())

    def method(self):
        return _weighted(self._me, self._me_cum, self.r())

    def sku(self):
        return "SKU-%05d" % self.n(10000, 99999)

    def ms(self, lo=0.3, hi=250.0):
        # Latencies are long-tailed: mostly fast, sometimes slow.
        return min(hi * 20, lo + self.rng.lognormvariate(1.5, 1.1) * (hi / 60))

    def dur(self):
        v = self.ms()
        if v < 1:
            return "%.3fµs" % (v * 1000) if self.r() < 0.3 else "%.3fms" % v
        return "%.3fms" % v if v < 1000 else "%.3fs" % (v / 1000)

    def path(self):
        r = self.r()
        if r < 0.16:
            return "/api/v1/products?category=%s&page=%d&sort=%s" % (
                self.pick(CATEGORIES), self.n(1, 12), self.pick(SORTS))
        if r < 0.30:
            return "/api/v1/products/%s" % self.sku()
        if r < 0.40:
            return "/api/v1/cart/items" + ("/" + self.sku() if self.r() < 0.4 else "")
        if r < 0.46:
            return "/api/v1/search?q=%s&page=%d" % (self.pick(SEARCH_TERMS), self.n(1, 4))
        if r < 0.52:
            return "/api/v1/orders/ord-%s" % self.hex(12)
        if r < 0.56:
            return "/api/v1/recommendations?sku=%s&limit=%d" % (self.sku(), self.pick([4, 8, 12]))
        if r < 0.58:
            return self.pick(["/api/v1/checkout", "/api/v1/checkout/confirm",
                              "/api/v1/session", "/api/v1/auth/login", "/api/v1/auth/refresh",
                              "/api/v1/auth/logout", "/oauth2/callback", "/api/v1/token/refresh"])
        if r < 0.72:
            return self.pick([
                "/static/js/main.%s.chunk.js" % self.hex(8),
                "/static/js/vendor.%s.chunk.js" % self.hex(8),
                "/static/css/main.%s.css" % self.hex(8),
                "/images/products/%s-%dx%d.webp" % (self.sku(), 640, 640),
                "/images/products/%s-%dx%d.webp" % (self.sku(), 320, 320),
                "/fonts/inter-var.woff2", "/favicon.ico", "/manifest.json", "/robots.txt",
                "/sitemap.xml", "/"])
        if r < 0.82:
            return self.pick(["/", "/products", "/products/%s" % self.sku(),
                              "/category/%s" % self.pick(CATEGORIES), "/cart", "/checkout",
                              "/account/orders", "/help/shipping", "/search?q=%s" %
                              self.pick(SEARCH_TERMS)])
        return self.pick(["/healthz", "/readyz", "/livez", "/metrics"])


def _cum(weights):
    out, s = [], 0.0
    for w in weights:
        s += w
        out.append(s)
    return [c / s for c in out]


def _weighted(items, cum, r):
    for item, c in zip(items, cum):
        if r < c:
            return item
    return items[-1]


def _ev(*lines):
    """An event: one or more lines (stream, time kind, message with markers)."""
    return list(lines)


def klog_line(c, sev, src, msg, tid=1):
    return ("stderr", T_KLOG, "%s%s %7d %s] %s" % (sev, TIME, tid, src, msg))


# ---------------------------------------------------------------------------------------------
# Message families


def nginx_access(c):
    method = c.method()
    path = c.path()
    ua = "kube-probe/1.31" if path in ("/healthz", "/readyz", "/livez") else c.ua()
    st = c.status()
    size = 0 if st in (204, 304) else c.n(0, 48000) if st < 300 else c.n(0, 900)
    ref = "-" if c.r() < 0.4 else "https://shop.acme-retail.com%s" % c.pick(
        ["/", "/cart", "/products", "/category/%s" % c.pick(CATEGORIES), "/checkout"])
    svc = c.pick(["shop-frontend-80", "shop-cart-8080", "shop-catalog-8000", "shop-checkout-8080",
                  "shop-frontend-80", "shop-frontend-80"])
    rt = c.ms() / 1000
    up = "%s:%d" % (c.ip(), 8080)
    line = ('%s - - [%s] "%s %s HTTP/%s" %d %d "%s" "%s" %d %.3f [%s] [] %s %d %.3f %d %s' % (
        c.ip() if c.r() < 0.2 else "%d.%d.%d.%d" % (c.n(2, 223), c.n(0, 255), c.n(0, 255),
                                                    c.n(1, 254)),
        TIME, method, path, c.pick(["1.1", "1.1", "2.0"]), st, size, ref, ua, c.n(60, 1800), rt,
        svc, up, size, max(0.0, rt - 0.001), st, TRACE))
    return _ev(("stdout", T_CLF, line))


def nginx_controller(c):
    r = c.r()
    ns, app = "shop", c.pick(["frontend", "cart", "catalog", "checkout"])
    if r < 0.3:
        msg = '"Found valid IngressClass" ingress="%s/%s" ingressclass="nginx"' % (ns, app)
        return _ev(klog_line(c, "I", "store.go:440", msg, 7))
    if r < 0.5:
        return _ev(klog_line(c, "I", "controller.go:193",
                             '"Configuration changes detected, backend reload required"', 7),
                   klog_line(c, "I", "controller.go:213", '"Backend successfully reloaded"', 7),
                   klog_line(c, "I", "event.go:377", '"Event occurred" object="ingress-nginx/%s" '
                             'fieldPath="" kind="Pod" apiVersion="v1" type="Normal" '
                             'reason="RELOAD" message="NGINX reload triggered due to a change in '
                             'configuration"' % c.pod, 7))
    if r < 0.6:
        return _ev(klog_line(c, "I", "backend_ssl.go:67",
                             '"Adding secret to local store" name="%s/%s-tls"' % (ns, app), 7))
    if r < 0.8:
        return _ev(klog_line(c, "I", "status.go:304", '"updating Ingress status" namespace="%s" '
                             'ingress="%s" currentValue=null newValue=[{"hostname":"a%s-%d.'
                             'elb.eu-west-1.amazonaws.com"}]' % (ns, app, c.hex(31),
                                                                 c.n(10**8, 9 * 10**8)),
                             7))
    path = c.path()
    return _ev(("stderr", T_SLASH, "%s [error] %d#%d: *%d upstream timed out (110: "
                "Operation timed out) while reading response header from upstream, client: "
                "%s, server: shop.acme-retail.com, request: \"GET %s HTTP/1.1\", upstream: "
                "\"http://%s:8080%s\", host: \"shop.acme-retail.com\"" % (
                    TIME, c.n(20, 40), c.n(20, 40), c.n(1, 9999999), c.ip(), path, c.ip(),
                    path)))


def nginx_secret_parse(c):
    # ingress-nginx's store (store.go) names a Secret an auth annotation uses the structured way,
    # `secret="<namespace>/<name>"`: a reference to a Secret, not its value.
    name = "shop/%s" % c.pick(["frontend-basic-auth", "grafana-basic-auth", "admin-basic-auth",
                               "frontend-tls"])
    verb, line = c.pick([("added", 590), ("updated", 619)])
    return _ev(klog_line(c, "I", "store.go:%d" % line, '"%s was %s and it is used in ingress '
                         'annotations. Parsing" secret="%s"' % (
                             "Secret" if verb == "added" else "secret", verb, name), 7),
               klog_line(c, "I", "backend_ssl.go:59",
                         '"Updating secret in local store" name="%s"' % name, 7))


def envoy_access(c, inbound):
    svc = c.container_app if inbound else c.pick(SERVICES)
    method = c.method()
    path = c.path() if c.r() < 0.5 else "/v1/%s/%s" % (svc, c.pick(
        ["items", "status", "quote", "reserve", "lookup", "batch"]))
    st = c.status()
    flags = "-" if st < 500 else c.pick(["UT", "UF", "URX", "-", "-"])
    dur = int(c.ms())
    line = ('[%s] "%s %s HTTP/%s" %d %s via_upstream - "-" %d %d %d %d "%s" "%s" "%s" "%s" '
            '"%s:8080" %s|8080||%s.shop.svc.cluster.local %s:%d %s:8080 %s:%d %s default' % (
                TIME, method, path, c.pick(["1.1", "2"]), st, flags, c.n(0, 2400), c.n(0, 32000),
                dur, max(0, dur - c.n(0, 3)), "-" if inbound else c.ip(),
                c.pick(INTERNAL_AGENTS) if c.r() < 0.7 else c.ua(), RID,
                "%s.shop.svc.cluster.local:8080" % svc, c.ip(),
                "inbound" if inbound else "outbound", svc, c.ip(), c.port(), c.ip(), c.ip(),
                c.port(), "outbound_.8080_._.%s.shop.svc.cluster.local" % svc
                if not inbound else "-"))
    return _ev(("stdout", T_ISO_MS, line))


def istio_agent(c):
    msg = c.pick([
        "info\txdsproxy\tconnected to delta upstream XDS server: istiod.istio-system.svc:15012\t"
        "id=%d" % c.n(1, 400),
        "info\tads\tADS: new connection for node:%s.%s-%d" % (c.pod, c.ns, c.n(1, 40)),
        "info\tcache\tgenerated new workload certificate\tresourceName=default latency=%dms "
        "ttl=23h59m59.%09ds" % (c.n(40, 400), c.n(0, 999999999)),
        "info\tads\tSDS: PUSH request for node:%s.%s resources:1 size:4.0kB resource:default"
        % (c.pod, c.ns),
        "info\tads\tSDS: PUSH request for node:%s.%s resources:1 size:1.1kB resource:ROOTCA"
        % (c.pod, c.ns),
        "info\tcache\tRoot cert has changed, start rotating root cert",
        "warning\tenvoy config external/envoy/source/extensions/config_subscription/grpc/"
        "grpc_stream.h:193\tStreamAggregatedResources gRPC config stream to xds-grpc closed "
        "since %ds ago: 14, connection error: desc = \"transport: Error while dialing: dial tcp "
        "10.96.%d.%d:15012: connect: connection refused\"\tthread=%d" % (
            c.n(1, 60), c.n(0, 255), c.n(1, 254), c.n(10, 30)),
        "info\tHealth check passed",
    ])
    return _ev(("stderr", T_ISO_US, TIME + "\t" + msg))


def istiod(c):
    svc = c.pick(SERVICES)
    msg = c.pick([
        "info\tads\tPush debounce stable[%d] %d for config ServiceEntry/shop/%s.shop.svc.cluster."
        "local: %d.%dms since last change, %d.%dms since last push, full=true" % (
            c.n(100, 9000), c.n(1, 5), svc, c.n(100, 110), c.n(0, 999), c.n(100, 900),
            c.n(0, 999)),
        "info\tads\tXDS: Pushing Services:%d ConnectedEndpoints:%d Version:2026-11-28T%02d:%02d:"
        "%02dZ/%d" % (c.n(80, 95), c.n(20, 30), c.n(10, 15), c.n(0, 59), c.n(0, 59),
                      c.n(100, 9000)),
        "info\tads\tCDS: PUSH for node:%s-%s.shop resources:%d size:%d.%dkB" % (
            svc, c.hex(5), c.n(100, 130), c.n(80, 120), c.n(0, 9)),
        "info\tads\tEDS: PUSH for node:%s-%s.shop resources:%d size:%d.%dkB empty:0 cached:%d/%d"
        % (svc, c.hex(5), c.n(60, 80), c.n(10, 30), c.n(0, 9), c.n(50, 70), c.n(60, 80)),
        "info\tads\tLDS: PUSH for node:%s-%s.shop resources:%d size:%d.%dkB" % (
            svc, c.hex(5), c.n(20, 40), c.n(60, 120), c.n(0, 9)),
        "info\tads\tRDS: PUSH for node:%s-%s.shop resources:%d size:%d.%dkB cached:%d/%d" % (
            svc, c.hex(5), c.n(10, 20), c.n(10, 40), c.n(0, 9), c.n(5, 10), c.n(10, 20)),
        "info\tads\tSDS: PUSH for node:istio-ingressgateway-%s-%s.istio-system resources:1 "
        "size:%d.%dkB resource:kubernetes://shop-tls" % (c.hex(10), c.hex(5), c.n(3, 6),
                                                          c.n(0, 9)),
        "info\tvalidationController\tvalidatingwebhookconfiguration istio-validator-istio-system "
        "(failurePolicy=Fail, resourceVersion=%d) is up-to-date. No change required." % c.n(
            1000000, 9999999),
        "info\tmodel\tIncremental push, service %s.shop.svc.cluster.local at shard Kubernetes/"
        "Kubernetes has no endpoints" % svc,
        "info\tads\tPush Status: {\"pilot_xds\": {\"%s-%s.shop\": 1}}" % (svc, c.hex(5)),
        "info\tads\tADS: \"%s:%d\" %s-%s.shop-%d terminated" % (c.ip(), c.port(), svc, c.hex(5),
                                                                c.n(1, 90)),
    ])
    if c.r() < 0.01:  # the gateway's TLS Secret changed (cert-manager renewed it)
        msg = ("info\tcredentials\tupdating credentials for secret shop/shop-tls (gateway "
               "istio-system/istio-ingressgateway)")
    return _ev(("stderr", T_ISO_US, TIME + "\t" + msg))


def coredns(c):
    if c.r() < 0.97:
        svc = c.pick(SERVICES)
        q = c.pick(["A", "A", "AAAA"])
        name = c.pick(["%s.shop.svc.cluster.local." % svc,
                       "%s.shop.svc.cluster.local.shop.svc.cluster.local." % svc,
                       "postgres-0.postgres.data.svc.cluster.local.",
                       "kafka-0.kafka-headless.data.svc.cluster.local.",
                       "istiod.istio-system.svc.",
                       "sts.eu-west-1.amazonaws.com.", "api.stripe.com.",
                       "registry.acme-retail.com."])
        rc = "NXDOMAIN" if ".shop.svc.cluster.local.shop" in name else "NOERROR"
        line = '[INFO] %s:%d - %d "%s IN %s udp %d false 512" %s qr,aa,rd %d %.9fs' % (
            c.ip(), c.port(), c.n(1, 65535), q, name, c.n(40, 90), rc, c.n(90, 250),
            c.ms() / 5000)
        return _ev(("stdout", T_NONE, line))
    return _ev(("stdout", T_NONE, c.pick([
        "[INFO] plugin/reload: Running configuration SHA512 = %s" % c.hex(128),
        "[WARNING] No files matching import glob pattern: /etc/coredns/custom/*.server",
        "[INFO] Reloading complete",
        "[ERROR] plugin/errors: 2 %s. AAAA: read udp %s:%d->10.0.0.2:53: i/o timeout" % (
            c.pick(["api.stripe.com", "sts.eu-west-1.amazonaws.com"]), c.ip(), c.port()),
    ])))


def kube_proxy(c):
    return _ev(klog_line(c, "I", c.pick(["proxier.go:805", "proxier.go:1535", "proxier.go:1568",
                                         "config.go:188", "config.go:315"]), c.pick([
        '"Syncing iptables rules"',
        '"SyncProxyRules complete" elapsed="%s"' % c.dur(),
        '"Reloading service iptables data" numServices=%d numEndpoints=%d numFilterChains=6 '
        'numFilterRules=%d numNATChains=%d numNATRules=%d' % (c.n(80, 95), c.n(130, 160),
                                                              c.n(4, 12), c.n(20, 30),
                                                              c.n(90, 120)),
        '"Updating existing service port" portName="shop/%s:http" servicePort="172.20.%d.%d:8080/'
        'TCP"' % (c.pick(SERVICES), c.n(0, 255), c.n(1, 254)),
        '"Calling handler.OnEndpointSliceUpdate"',
    ])))


def calico(c):
    return _ev(("stdout", T_SP_MS, TIME + " " + c.pick([
        "[INFO][%d] felix/int_dataplane.go 1954: Received *proto.WorkloadEndpointUpdate update "
        "from calculation graph msg=id:<orchestrator_id:\"k8s\" workload_id:\"shop/%s-%s\" "
        "endpoint_id:\"eth0\" > endpoint:<state:\"active\" name:\"cali%s\" mac:\"%s\" "
        "profile_ids:\"kns.shop\" profile_ids:\"ksa.shop.%s\" ipv4_nets:\"%s/32\" >" % (
            c.n(60, 90), c.pick(SERVICES), c.hex(10), c.hex(11),
            ":".join(c.hex(2) for _ in range(6)), c.pick(SERVICES), c.ip()),
        "[INFO][%d] felix/summary.go 100: Summarising %d dataplane reconciliation loops over "
        "1m%d.%ds: avg=%dms longest=%dms (resync-nat-v4)" % (
            c.n(60, 90), c.n(8, 30), c.n(0, 9), c.n(0, 9), c.n(3, 30), c.n(10, 120)),
        "[INFO][%d] felix/route_table.go 1185: Failed to access interface because it doesn't "
        "exist. error=Link not found ifaceName=\"cali%s\" ifaceRegex=\"^cali.*\" ipVersion=0x4 "
        "tableIndex=254" % (c.n(60, 90), c.hex(11)),
        "[INFO][%d] felix/health.go 336: Overall health status changed: live=true ready=true"
        % c.n(60, 90),
        "[INFO][%d] felix/ipsets.go 130: Queueing IP set for creation family=\"inet\" setID="
        "\"s:%s\" setType=\"hash:net\"" % (c.n(60, 90), c.hex(22)),
    ])))


def kcm(c):
    ns = c.pick(["shop", "shop", "data", "monitoring", "argocd", "kube-system"])
    app = c.pick(SERVICES)
    r = c.r()
    if r < 0.25:
        return _ev(klog_line(c, "I", "replica_set.go:676", '"Finished syncing" kind="ReplicaSet" '
                             'key="%s/%s-%s" duration="%s"' % (ns, app, c.hex(10), c.dur())))
    if r < 0.40:
        return _ev(klog_line(c, "I", "event.go:389", '"Event occurred" object="%s/%s-%s-%s" '
                             'fieldPath="" kind="Pod" apiVersion="v1" type="Normal" '
                             'reason="SuccessfulCreate" message="Created pod: %s-%s-%s"' % (
                                 ns, app, c.hex(10), c.hex(5), app, c.hex(10), c.hex(5))))
    if r < 0.50:
        return _ev(klog_line(c, "I", "endpointslice_controller.go:311",
                             '"Error syncing endpoint slices for service, retrying" key="%s/%s" '
                             'err="EndpointSlice informer cache is out of date"' % (ns, app)))
    if r < 0.58:
        return _ev(klog_line(c, "I", "garbagecollector.go:826",
                             '"Deleting item" item="[v1/Pod, namespace: %s, name: %s-%s-%s, '
                             'uid: %s]" propagationPolicy="Background"' % (
                                 ns, app, c.hex(10), c.hex(5), c.uuid())))
    if r < 0.66:
        return _ev(klog_line(c, "I", "horizontal.go:%d" % c.n(800, 900),
                             '"Successful rescale" HPA="%s/%s" currentReplicas=%d '
                             'desiredReplicas=%d reason="cpu resource utilization (percentage '
                             'of request) above target"' % (ns, app, c.n(2, 5), c.n(3, 8))))
    if r < 0.72:
        if c.r() < 0.5:
            return _ev(klog_line(c, "I", "reflector.go:255",
                                 "Listing and watching %s from k8s.io/client-go/informers/"
                                 "factory.go:150" % c.pick(K8S_RESOURCES)))
        return _ev(klog_line(c, "I", "reflector.go:368",
                             "Caches populated for %s from k8s.io/client-go/informers/factory.go"
                             ":160" % c.pick(K8S_RESOURCES)))
    if r < 0.78:
        return _ev(klog_line(c, "I", "leaderelection.go:%d" % c.pick([254, 268]), c.pick([
            "attempting to acquire leader lease kube-system/kube-controller-manager...",
            "successfully acquired lease kube-system/kube-controller-manager"])))
    if r < 0.84:
        return _ev(klog_line(c, "I", "cronjob_controllerv2.go:%d" % c.n(500, 700),
                             '"Created Job" job="%s/%s-report-%d" cronjob="%s/%s-report"' % (
                                 ns, app, c.n(29000000, 29900000), ns, app)))
    if r < 0.88:
        return _ev(klog_line(c, "I", "node_lifecycle_controller.go:%d" % c.n(1000, 1300),
                             '"Node is healthy again, removing all taints" node="%s"' % c.node))
    if r < 0.93:
        # The tokens and service-account controllers: Secret and token in prose.
        return _ev(klog_line(c, "I", c.pick(["tokens_controller.go:%d" % c.n(180, 260),
                                             "serviceaccounts_controller.go:%d" % c.n(180, 220),
                                             "legacy_serviceaccount_token_cleaner.go:%d"
                                             % c.n(100, 200)]), c.pick([
            '"Syncing service account" serviceaccount="%s/%s"' % (ns, app),
            '"Finished syncing namespace" namespace="%s" elapsed="%s"' % (ns, c.dur()),
            '"Skipping legacy service account token cleanup: token is still referenced by a '
            'pod" serviceaccount="%s/default"' % ns,
            '"Starting service account token cleanup" jitterPeriod="%dh%dm"' % (c.n(0, 23),
                                                                               c.n(0, 59)),
        ])))
    if r < 0.97:
        return _ev(klog_line(c, "W", "reflector.go:561",
                             "k8s.io/client-go/metadata/metadatainformer/informer.go:138: failed "
                             "to list *v1.PartialObjectMetadata: the server could not find the "
                             "requested resource"))
    return _ev(klog_line(c, "E", "reflector.go:158",
                         '"Unhandled Error" err="k8s.io/client-go/informers/factory.go:160: '
                         'Failed to watch %s: the server has asked for the client to provide '
                         'credentials" logger="UnhandledError"' % c.pick(K8S_RESOURCES)))


def scheduler(c):
    ns, app = c.pick(["shop", "data", "monitoring"]), c.pick(SERVICES)
    if c.r() < 0.85:
        return _ev(klog_line(c, "I", "schedule_one.go:%d" % c.n(280, 320),
                             '"Successfully bound pod to node" pod="%s/%s-%s-%s" node="%s" '
                             'evaluatedNodes=%d feasibleNodes=%d' % (
                                 ns, app, c.hex(10), c.hex(5), c.pick(NODES), 6, c.n(2, 6))))
    return _ev(klog_line(c, "I", "schedule_one.go:%d" % c.n(1000, 1100),
                         '"Unable to schedule pod; no fit; waiting" pod="%s/%s-%s-%s" '
                         'err="0/6 nodes are available: 2 Insufficient cpu, 1 node(s) had '
                         'untolerated taint {node.kubernetes.io/unreachable: }, 3 node(s) '
                         'didn\'t match pod anti-affinity rules. preemption: 0/6 nodes are '
                         'available: 3 No preemption victims found for incoming pod, 3 '
                         'Preemption is not helpful for scheduling."' % (
                             ns, app, c.hex(10), c.hex(5))))


def metrics_server(c):
    if c.r() < 0.7:
        return _ev(klog_line(c, "I", "server.go:%d" % c.n(130, 150),
                             '"Scraped node metrics" node="%s" duration="%s"'
                             % (c.pick(NODES), c.dur())))
    return _ev(klog_line(c, "E", "scraper.go:149",
                         '"Failed to scrape node" err="Get \\"https://%s:10250/metrics/resource\\"'
                         ': context deadline exceeded" node="%s"' % (
                             "10.0.%d.%d" % (c.n(1, 3), c.n(2, 250)), c.pick(NODES))))


def ksm(c):
    return _ev(klog_line(c, c.pick("IIIIW"), c.pick(["builder.go:282", "reflector.go:368",
                                                    "server.go:213"]), c.pick([
        "Caches populated for %s from pkg/mod/k8s.io/client-go@v0.31.3/tools/cache/"
        "reflector.go:243" % c.pick(K8S_RESOURCES),
        '"Active resources" activeStoreNames="certificatesigningrequests,configmaps,cronjobs,'
        'daemonsets,deployments,endpoints,horizontalpodautoscalers,ingresses,jobs,leases,'
        'limitranges,mutatingwebhookconfigurations,namespaces,networkpolicies,nodes,'
        'persistentvolumeclaims,persistentvolumes,poddisruptionbudgets,pods,replicasets,'
        'replicationcontrollers,resourcequotas,secrets,services,statefulsets,storageclasses,'
        'validatingwebhookconfigurations,volumeattachments"',
        '"Started metrics server" metricsServerAddress="[::]:8080"',
    ])))


def logfmt_prometheus(c):
    r = c.r()
    if r < 0.35:
        msg = ('caller=scrape.go:%d level=warn component="scrape manager" scrape_pool='
               'serviceMonitor/%s/%s/0 target=http://%s:%d/metrics msg="Append failed" '
               'err="out of bounds"' % (c.n(1400, 1800), c.pick(["shop", "monitoring"]),
                                       c.pick(SERVICES), c.ip(), c.pick([8080, 9090, 9100])))
    elif r < 0.55:
        msg = ('caller=head.go:%d level=info component=tsdb msg="Head GC completed" caller='
               'truncateMemory duration=%s' % (c.n(1100, 1400), c.dur()))
    elif r < 0.70:
        msg = ('caller=compact.go:%d level=info component=tsdb msg="write block" mint=%d '
               'maxt=%d ulid=01J%s duration=%s ooo=false' % (
                   c.n(500, 600), (START - 7200) * 1000, START * 1000,
                   "".join(c.pick("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(23)),
                   c.dur()))
    elif r < 0.85:
        msg = ('caller=checkpoint.go:%d level=info component=tsdb msg="Creating checkpoint" '
               'from_segment=%d to_segment=%d mint=%d' % (c.n(100, 110), c.n(100, 200),
                                                           c.n(201, 300), START * 1000))
    else:
        msg = ('caller=klog.go:%d level=error component=k8s_client_runtime func=ErrorDepth '
               'msg="pkg/mod/k8s.io/client-go@v0.31.1/tools/cache/reflector.go:243: Failed to '
               'watch *v1.Endpoints: the server has received too many requests and has asked us '
               'to try again later"' % c.n(100, 120))
    return _ev(("stderr", T_ISO_MS, "ts=" + TIME + " " + msg))


def logfmt_reloader(c):
    return _ev(("stdout", T_ISO_MS, "level=info ts=%s caller=reloader.go:%d msg=%s" % (
        TIME, c.n(300, 400), c.pick([
            '"Reload triggered" cfg_in=/etc/prometheus/config/prometheus.yaml.gz cfg_out=/etc/'
            'prometheus/config_out/prometheus.env.yaml watched_dirs=/etc/prometheus/rules/'
            'prometheus-k8s-rulefiles-0',
            '"config file changed" cfg=/etc/prometheus/config/prometheus.yaml.gz hash=%s'
            % c.hex(64)]))))


def alertmanager(c):
    alert = c.pick(["KubePodCrashLooping", "KubeDeploymentReplicasMismatch", "CPUThrottlingHigh",
                    "KubeJobFailed", "TargetDown", "Watchdog", "NodeFilesystemSpaceFillingUp"])
    return _ev(("stderr", T_ISO_MS, "ts=" + TIME + " " + c.pick([
        'caller=dispatch.go:164 level=debug component=dispatcher msg="Received alert" alert=%s'
        '[%s][active]' % (alert, c.hex(7)),
        'caller=dispatch.go:516 level=debug component=dispatcher aggrGroup="{}/{severity=\\"'
        'warning\\"}:{alertname=\\"%s\\", namespace=\\"shop\\"}" msg=flushing alerts=[%s[%s]'
        '[active]]' % (alert, alert, c.hex(7)),
        'caller=notify.go:848 level=warn component=dispatcher receiver=slack-critical '
        'integration=slack[0] aggrGroup="{}/{severity=\\"critical\\"}:{alertname=\\"%s\\"}" '
        'msg="Notify attempt failed, will retry later" attempts=1 err="Post \\"<redacted>\\": '
        'context deadline exceeded"' % alert,
        'caller=silence.go:%d level=info component=silences msg="Running maintenance"' % c.n(
            370, 400),
        'caller=nflog.go:%d level=info component=nflog msg="Maintenance done" duration=%s '
        'size=%d' % (c.n(330, 360), c.dur(), c.n(1000, 90000)),
    ])))


def grafana(c):
    uid = c.hex(9)
    r = c.r()
    if r < 0.8:
        path = c.pick(["/api/dashboards/uid/%s" % uid, "/api/ds/query", "/api/search",
                       "/api/annotations", "/api/live/ws", "/public/build/app.%s.js" % c.hex(20),
                       "/api/user/preferences", "/api/health"])
        st = c.status()
        msg = ('logger=context userId=%d orgId=1 uname=%s t=%s level=info msg="Request '
               'Completed" method=%s path=%s status=%d remote_addr=%s time_ms=%d duration=%s '
               'size=%d referer="https://grafana.acme-retail.com/d/%s/kubernetes-compute-'
               'resources-namespace-pods?orgId=1&refresh=30s&var-namespace=shop" handler=%s '
               'status_source=server' % (
                   c.n(1, 40), c.pick(["sre-oncall", "jdoe", "mmuller", "viewer"]), TIME,
                   c.method(), path, st, c.ip(), c.n(1, 900), c.dur(), c.n(0, 90000), uid,
                   path.replace(uid, ":uid")))
    elif r < 0.9:
        msg = 'logger=cleanup t=%s level=info msg="Completed cleanup jobs" duration=%s' % (
            TIME, c.dur())
    elif r < 0.91:
        msg = ('logger=oauth.generic_oauth t=%s level=info msg="Refreshed OAuth access token" '
               'userId=%d' % (TIME, c.n(1, 40)))
    else:
        msg = ('logger=ngalert.scheduler rule_uid=%s org_id=1 version=%d fingerprint=%s now=%s '
               't=%s level=info msg="Rule evaluation succeeded"' % (
                   c.hex(14), c.n(1, 30), c.hex(16), "2026-11-28T%02d:00:00Z" % c.n(10, 15),
                   TIME))
    return _ev(("stdout", T_ISO_MS, msg))


def node_exporter(c):
    return _ev(("stderr", T_ISO_MS, "ts=%s caller=%s level=%s msg=%s" % (TIME, c.pick([
        "collector.go:173", "tls_config.go:348", "node_exporter.go:111"]), c.pick(
        ["error", "info"]), c.pick([
            '"collector failed" name=hwmon duration_seconds=%.6f err="open /sys/class/hwmon/'
            'hwmon1/fan1_input: no such file or directory"' % (c.ms() / 1000),
            '"Listening on" address=[::]:9100', '"TLS is disabled." http2=false '
            'address=[::]:9100']))))


def cert_manager(c):
    ns, app = c.pick(["shop", "monitoring", "argocd"]), c.pick(SERVICES)
    return _ev(klog_line(c, "I", c.pick(["trigger_controller.go:223", "conditions.go:203",
                                         "issuing_controller.go:161", "sync.go:%d" % c.n(90, 120),
                                         "controller.go:%d" % c.n(160, 170)]), c.pick([
        '"Certificate must be re-issued" logger="cert-manager.controller" key="%s/%s-tls" '
        'reason="Renewing" message="Renewing certificate as renewal was scheduled at 2026-11-28 '
        '%02d:00:00 +0000 UTC"' % (ns, app, c.n(10, 15)),
        'Setting lastTransitionTime for Certificate "%s-tls" condition "Ready" to 2026-11-28 '
        '%02d:%02d:%02d.%09d +0000 UTC m=+%d.%09d' % (app, c.n(10, 15), c.n(0, 59), c.n(0, 59),
                                                       c.n(0, 999999999), c.n(100, 20000),
                                                       c.n(0, 999999999)),
        '"Issued certificate" logger="cert-manager.controller" resource_name="%s-tls" '
        'resource_namespace="%s" resource_kind="Certificate" resource_version="v1"' % (app, ns),
        '"certificate resource is not in a ready state, not syncing Secret" logger='
        '"cert-manager.controller" resource_name="%s-tls" resource_namespace="%s"' % (app, ns),
        '"re-queuing item due to optimistic locking on resource" logger="cert-manager.'
        'controller" key="%s/%s-tls" error="Operation cannot be fulfilled on certificates.'
        'cert-manager.io \\"%s-tls\\": the object has been modified; please apply your changes to'
        ' the latest version and try again"' % (ns, app, app),
        '"propagating Secret to CertificateRequest" logger="cert-manager.controller" '
        'key="%s/%s-tls-%d"' % (ns, app, c.n(1, 9)),
    ])))


def cainjector(c):
    return _ev(klog_line(c, "I", "reconciler.go:%d" % c.n(100, 150), c.pick([
        '"Updated object" logger="cert-manager" kind="validatingwebhookconfiguration" '
        'kind="validatingwebhookconfiguration" name="%s"' % c.pick([
            "cert-manager-webhook", "istio-validator-istio-system", "ingress-nginx-admission"]),
        '"Invalid inject-ca-from annotation" logger="cert-manager" kind="customresourcedefinition"'
        ' name="%s.acme-retail.com"' % c.pick(["promotions", "warehouses"]),
    ])))


def cm_webhook(c):
    if c.r() < 0.9:  # the API server's probes and closed connections
        reason = c.pick(["EOF", "EOF", "read: connection reset by peer"])
        return _ev(klog_line(c, "I", "logs.go:59", "http: TLS handshake error from 10.0.%d.%d:%d: "
                             "%s" % (c.n(1, 3), c.n(2, 250), c.port(), reason)))
    return _ev(klog_line(c, "I", c.pick(["dynamic_source.go:%d" % c.n(250, 290),
                                         "authority.go:%d" % c.n(380, 420)]), c.pick([
        '"Updated cert-manager TLS certificate" logger="cert-manager" DNSNames=['
        '"cert-manager-webhook","cert-manager-webhook.cert-manager",'
        '"cert-manager-webhook.cert-manager.svc"]',
        '"Will regenerate CA" logger="cert-manager" reason="CA secret not found"',
        '"Detected change in CA secret data, notifying current certificate issuer" logger='
        '"cert-manager"',
    ])))


def logrus(c, level, msg, fields):
    return ("stdout", T_ISO_S, ('time="%s" level=%s msg="%s" %s' % (TIME, level, msg,
                                                                     fields)).rstrip())


def argocd_controller(c):
    app = c.pick(SERVICES)
    r = c.r()
    if r < 0.45:
        return _ev(logrus(c, "info", "Reconciliation completed",
                          "application=argocd/shop-%s dedup_ms=0 dest-name= dest-namespace=shop "
                          "dest-server=\"https://kubernetes.default.svc\" diff_ms=%d "
                          "fields.level=%d git_ms=%d health_ms=%d live_ms=%d patch_ms=0 "
                          "setop_ms=0 settings_ms=0 sync_ms=0 time_ms=%d" % (
                              app, c.n(0, 40), c.n(0, 3), c.n(0, 900), c.n(0, 5), c.n(0, 8),
                              c.n(10, 1500))))
    if r < 0.70:
        return _ev(logrus(c, "info", "Refreshing app status (controller refresh requested), "
                          "level (%d)" % c.n(0, 3), "application=argocd/shop-%s" % app))
    if r < 0.85:
        return _ev(logrus(c, "info", "Comparing app state (cluster: https://kubernetes.default."
                          "svc, namespace: shop)", "application=argocd/shop-%s" % app))
    if r < 0.95:
        return _ev(logrus(c, "info", "Updated sync status: OutOfSync -> Synced",
                          "application=shop-%s dest-namespace=shop dest-server=\"https://"
                          "kubernetes.default.svc\" reason=ResourceUpdated type=Normal "
                          "revision=%s" % (app, c.sha())))
    return _ev(logrus(c, "warning", "Failed to get cached managed resources for tree "
                      "reconciliation, fall back to full reconciliation",
                      "application=argocd/shop-%s" % app))


def argocd_repo(c):
    app = c.pick(SERVICES)
    sha = c.sha()
    r = c.r()
    if r < 0.3:
        return _ev(logrus(c, "info", "git fetch origin --tags --force --prune",
                          "dir=/tmp/_argocd-repo/%s execID=%s time_ms=%.4f" % (
                              c.uuid(), c.hex(5), c.ms() * 8)))
    if r < 0.5:
        return _ev(logrus(c, "info", "git checkout --force %s" % sha,
                          "dir=/tmp/_argocd-repo/%s execID=%s time_ms=%.4f" % (
                              c.uuid(), c.hex(5), c.ms())))
    if r < 0.7:
        return _ev(logrus(c, "info", "manifest cache hit: &ApplicationSource{RepoURL:https://"
                          "github.com/acme-retail/k8s-manifests.git,Path:apps/%s/overlays/prod,"
                          "TargetRevision:HEAD,Helm:nil,Kustomize:&ApplicationSourceKustomize{"
                          "NamePrefix:,NameSuffix:,Images:[],CommonLabels:map[string]string{},"
                          "Version:,},Directory:nil,Plugin:nil,Chart:,Ref:,}/%s" % (app, sha),
                          ""))
    if r < 0.85:
        return _ev(logrus(c, "info", "finished unary call with code OK",
                          "grpc.code=OK grpc.method=GenerateManifest grpc.service=repository."
                          "RepoServerService grpc.start_time=\"2026-11-28T%02d:%02d:%02dZ\" "
                          "grpc.time_ms=%.3f span.kind=server system=grpc" % (
                              c.n(10, 15), c.n(0, 59), c.n(0, 59), c.ms() * 4)))
    return _ev(logrus(c, "info", "Generating manifests with kustomize", "revision=%s "
                      "repoURL=https://github.com/acme-retail/k8s-manifests.git path=apps/%s"
                      % (sha, app)))


def argocd_server(c):
    if c.r() < 0.85:
        return _ev(logrus(c, "info", "finished unary call with code OK",
                          "grpc.code=OK grpc.method=%s grpc.service=application.ApplicationService"
                          " grpc.start_time=\"2026-11-28T%02d:%02d:%02dZ\" grpc.time_ms=%.3f "
                          "span.kind=server system=grpc" % (
                              c.pick(["Get", "List", "ResourceTree", "ManagedResources",
                                      "RevisionMetadata"]),
                              c.n(10, 15), c.n(0, 59), c.n(0, 59), c.ms())))
    return _ev(logrus(c, "info", "Alloc=%d TotalAlloc=%d Sys=%d NumGC=%d Goroutines=%d" % (
        c.n(30000, 90000), c.n(1000000, 9000000), c.n(100000, 300000), c.n(100, 9000),
        c.n(100, 400)), ""))


def image_updater(c):
    app = c.pick(SERVICES)
    tag = "1.%d.%d" % (c.n(20, 60), c.n(0, 12))
    if c.r() < 0.5:
        return _ev(logrus(c, "info", "Setting new image to registry.acme-retail.com/shop/%s:%s@%s"
                          % (app, tag, c.digest()),
                          "alias=%s application=shop-%s image_name=shop/%s image_tag=%s "
                          "registry=registry.acme-retail.com" % (app, app, app, tag)))
    if c.r() < 0.7:
        return _ev(logrus(c, "info", "Processing results: applications=%d images_considered=%d "
                          "images_skipped=%d images_updated=%d errors=0" % (
                              c.n(10, 14), c.n(14, 20), c.n(0, 3), c.n(0, 2)), ""))
    return _ev(logrus(c, "debug", "Fetched manifest for registry.acme-retail.com/shop/%s" % app,
                      "digest=%s manifest_type=application/vnd.oci.image.index.v1+json" %
                      c.digest()))


def zap_json(c):
    svc = c.container_app
    r = c.r()
    ts = TIME
    if r < 0.55:
        st = c.status()
        return _ev(("stdout", T_EPOCH_F, '{"level":"%s","ts":%s,"caller":"http/server.go:%d",'
                    '"msg":"request completed","service":"%s","request_id":"%s",'
                    '"method":"%s","path":"%s","status":%d,"duration_ms":%.3f,"bytes":%d,'
                    '"remote_addr":"%s:%d","user_agent":"%s","trace_id":"%s"}' % (
                        "info" if st < 500 else "error", ts, c.n(180, 240), svc, RID,
                        c.method(), c.path().split("?")[0], st, c.ms(), c.n(0, 40000), c.ip(),
                        c.port(), c.pick(INTERNAL_AGENTS), TRACE)))
    msgs = [
        (3, "info", "order placed", ',"order_id":"ord-%s","items":%d,"total_cents":%d,'
         '"currency":"EUR"' % (c.hex(12), c.n(1, 8), c.n(500, 90000))),
        (2, "info", "payment authorized", ',"order_id":"ord-%s","provider":"stripe",'
         '"amount_cents":%d' % (c.hex(12), c.n(500, 90000))),
        (4, "debug", "cache miss", ',"key":"price:%s","backend":"redis"' % c.sku()),
        (1.5, "warn", "retrying upstream call", ',"upstream":"%s.shop.svc.cluster.local:8080",'
         '"attempt":%d,"error":"context deadline exceeded"' % (c.pick(SERVICES), c.n(1, 3))),
        (0.2, "info", "refreshed upstream access token", ',"upstream":"api.stripe.com",'
         '"expires_in_s":%d' % c.n(3000, 3600)),
        (1, "info", "token validated", ',"sub":"customer-%d","aud":"shop-api","exp_in_s":%d,'
         '"auth_method":"oidc"' % (c.n(1000, 99999), c.n(10, 3600))),
        (0.2, "info", "connected to database", ',"host":"postgres-0.postgres.data.svc.cluster.'
         'local","db":"shop","pool_size":%d' % c.pick([10, 20, 25])),
        (0.05, "info", "loaded secret from mounted volume", ',"secret_ref":"shop/stripe-api",'
         '"mount_path":"/var/run/secrets/stripe","key_count":2'),
        (1, "error", "upstream returned error", ',"upstream":"fraud-check.shop.svc.cluster.local",'
         '"status":503,"error":"no healthy upstream"'),
        (3, "info", "inventory reserved", ',"sku":"%s","warehouse":"ams-%d","qty":%d' % (
            c.sku(), c.n(1, 3), c.n(1, 5))),
    ]
    level, msg, extra = c.wpick([(m[0], m[1:]) for m in msgs])
    return _ev(("stdout", T_EPOCH_F, '{"level":"%s","ts":%s,"caller":"%s","msg":"%s",'
                '"service":"%s","request_id":"%s","duration_ms":%.3f%s}' % (
                    level, ts, c.pick(["checkout/service.go:%d" % c.n(40, 400),
                                       "internal/pricing/engine.go:%d" % c.n(20, 200),
                                       "internal/store/postgres.go:%d" % c.n(30, 300)]),
                    msg, svc, RID, c.ms(), extra)))


def go_panic(c):
    lines = [("stderr", T_SLASH, "%s http: panic serving %s:%d: runtime error: invalid memory "
              "address or nil pointer dereference" % (TIME, c.ip(), c.port())),
             ("stderr", T_NONE, "goroutine %d [running]:" % c.n(100, 99999))]
    frames = [
        ("net/http.(*conn).serve.func1()", "/usr/local/go/src/net/http/server.go:1947"),
        ("panic({0x%x?, 0x%x?})" % (c.n(0x1000000, 0x2000000), c.n(0x3000000, 0x4000000)),
         "/usr/local/go/src/runtime/panic.go:785"),
        ("github.com/acme-retail/checkout/internal/pricing.(*Engine).Apply(0x0, {0x%x, 0x3, 0x4})"
         % c.n(0xc000100000, 0xc000ffffff), "/src/internal/pricing/engine.go:87"),
        ("github.com/acme-retail/checkout/internal/api.(*Handler).Quote(0x%x, {0x%x, 0x%x}, "
         "0x%x)" % (c.n(0xc000100000, 0xc000ffffff), c.n(0x1000000, 0x2000000),
                    c.n(0xc000100000, 0xc000ffffff), c.n(0xc000100000, 0xc000ffffff)),
         "/src/internal/api/quote.go:142"),
        ("net/http.HandlerFunc.ServeHTTP(...)", "/usr/local/go/src/net/http/server.go:2220"),
        ("github.com/go-chi/chi/v5.(*Mux).routeHTTP(0x%x, {0x%x, 0x%x}, 0x%x)" % (
            c.n(0xc000100000, 0xc000ffffff), c.n(0x1000000, 0x2000000),
            c.n(0xc000100000, 0xc000ffffff), c.n(0xc000100000, 0xc000ffffff)),
         "/go/pkg/mod/github.com/go-chi/chi/v5@v5.1.0/mux.go:459"),
        ("net/http.serverHandler.ServeHTTP({0x%x?}, {0x%x?, 0x%x?}, 0x6?)" % (
            c.n(0xc000100000, 0xc000ffffff), c.n(0x1000000, 0x2000000),
            c.n(0xc000100000, 0xc000ffffff)), "/usr/local/go/src/net/http/server.go:3210"),
        ("net/http.(*conn).serve(0x%x, {0x%x, 0x%x})" % (
            c.n(0xc000100000, 0xc000ffffff), c.n(0x1000000, 0x2000000),
            c.n(0xc000100000, 0xc000ffffff)), "/usr/local/go/src/net/http/server.go:2092"),
        ("created by net/http.(*Server).Serve in goroutine 1",
         "/usr/local/go/src/net/http/server.go:3360"),
    ]
    for fn, loc in frames:
        lines.append(("stderr", T_NONE, fn))
        lines.append(("stderr", T_NONE, "\t%s +0x%x" % (loc, c.n(0x10, 0x6ff))))
    return lines


def pino_json(c):
    st = c.status()
    path = c.path()
    return _ev(("stdout", T_EPOCH_MS, '{"level":%d,"time":%s,"pid":1,"hostname":"%s","req":{'
                '"id":"%s","method":"%s","url":"%s","headers":{"host":"shop.acme-retail.com",'
                '"user-agent":"%s","accept":"%s","x-request-id":"%s"},"remoteAddress":'
                '"::ffff:%s","remotePort":%d},"res":{"statusCode":%d},"responseTime":%d,'
                '"msg":"request completed"}' % (
                    30 if st < 500 else 50, TIME, c.pod, RID, c.method(), path, c.ua(),
                    c.pick(["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                            "application/json", "*/*", "image/avif,image/webp,*/*"]),
                    c.hex(32), c.ip(), c.port(), st, int(c.ms()))))


def pino_other(c):
    return _ev(("stdout", T_EPOCH_MS, '{"level":%d,"time":%s,"pid":1,"hostname":"%s","msg":"%s"}'
                % (c.pick([30, 30, 40]), TIME, c.pod, c.pick([
                    "rendered product page %s in %dms" % (c.sku(), c.n(3, 90)),
                    "session store: %d active sessions" % c.n(100, 9000),
                    "feature flags refreshed (%d flags, etag W/\\\"%s\\\")" % (c.n(20, 60),
                                                                             c.hex(16)),
                    "upstream catalog slow: %dms for /api/products" % c.n(500, 3000),
                    "csrf token mismatch, rejecting form post to /checkout",
                ]))))


JAVA_FRAMES = [
    "org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014)",
    "org.springframework.web.servlet.FrameworkServlet.doPost(FrameworkServlet.java:914)",
    "jakarta.servlet.http.HttpServlet.service(HttpServlet.java:590)",
    "org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)",
    "jakarta.servlet.http.HttpServlet.service(HttpServlet.java:658)",
    "org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java"
    ":195)",
    "org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:140)",
    "org.apache.tomcat.websocket.server.WsFilter.doFilter(WsFilter.java:51)",
    "org.springframework.web.filter.RequestContextFilter.doFilterInternal(RequestContextFilter"
    ".java:100)",
    "org.springframework.web.filter.OncePerRequestFilter.doFilter(OncePerRequestFilter.java:116)",
    "org.springframework.web.filter.FormContentFilter.doFilterInternal(FormContentFilter.java:93)",
    "org.springframework.web.filter.ServerHttpObservationFilter.doFilterInternal("
    "ServerHttpObservationFilter.java:109)",
    "org.springframework.web.filter.CharacterEncodingFilter.doFilterInternal("
    "CharacterEncodingFilter.java:201)",
    "org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:167)",
    "org.apache.catalina.core.StandardContextValve.invoke(StandardContextValve.java:90)",
    "org.apache.catalina.authenticator.AuthenticatorBase.invoke(AuthenticatorBase.java:483)",
    "org.apache.catalina.core.StandardHostValve.invoke(StandardHostValve.java:115)",
    "org.apache.catalina.valves.ErrorReportValve.invoke(ErrorReportValve.java:93)",
    "org.apache.catalina.core.StandardEngineValve.invoke(StandardEngineValve.java:74)",
    "org.apache.catalina.connector.CoyoteAdapter.service(CoyoteAdapter.java:344)",
    "org.apache.coyote.http11.Http11Processor.service(Http11Processor.java:397)",
    "org.apache.coyote.AbstractProcessorLight.process(AbstractProcessorLight.java:63)",
    "org.apache.coyote.AbstractProtocol$ConnectionHandler.process(AbstractProtocol.java:905)",
    "org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun(NioEndpoint.java:1741)",
    "org.apache.tomcat.util.net.SocketProcessorBase.run(SocketProcessorBase.java:52)",
    "org.apache.tomcat.util.threads.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1190)",
    "org.apache.tomcat.util.threads.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:659)",
    "org.apache.tomcat.util.threads.TaskThread$WrappingRunnable.run(TaskThread.java:63)",
    "java.base/java.lang.Thread.run(Thread.java:1583)",
]


def abbreviate(logger, width=40):
    """Logback's %logger{40}: package segments cut to their first letter, leftmost first."""
    parts = logger.split(".")
    i = 0
    while len(".".join(parts)) > width and i < len(parts) - 1:
        parts[i] = parts[i][0]
        i += 1
    return ".".join(parts)


def spring(c, level, logger, msg, thread=None):
    app = c.container_app
    thread = thread or "nio-8080-exec-%d" % c.n(1, 10)
    return ("stdout", T_ISO_MS, "%s %5s 1 --- [%s] [%15s] %-40s : %s" % (
        TIME, level, app, thread[-15:], abbreviate(logger), msg))


def java_app(c):
    app = c.container_app
    r = c.r()
    table = c.pick(sorted(TABLES))
    cols = TABLES[table]
    if r < 0.30:
        return _ev(spring(c, "INFO", "c.a.shop.%s.web.%sController" % (app, app.capitalize()),
                          c.wpick([
                              (4, "Added item %s to cart %s (qty=%d)" % (c.sku(), c.uuid(),
                                                                         c.n(1, 4))),
                              (4, "Fetched cart %s with %d items in %d ms" % (c.uuid(), c.n(0, 9),
                                                                              c.n(1, 80))),
                              (2, "Payment %s for order ord-%s: status=AUTHORIZED amount=%d.%02d"
                                  " EUR" % (c.uuid(), c.hex(12), c.n(5, 900), c.n(0, 99))),
                              (0.3, "Tokenized card for order ord-%s (network=%s, last4=%04d)" % (
                                  c.hex(12), c.pick(["VISA", "MASTERCARD", "AMEX"]),
                                  c.n(0, 9999)))])))
    if r < 0.55:
        # Hibernate SQL logging: statements with placeholders, never the bound values.
        sel = ",".join("%s1_0.%s" % (table[0], col) for col in cols)
        where = c.pick(cols[:3])
        return _ev(("stdout", T_NONE, "Hibernate: select %s from %s %s1_0 where %s1_0.%s=?" % (
            sel, table, table[0], table[0], where)))
    if r < 0.65:
        return _ev(spring(c, "DEBUG", "o.s.web.servlet.DispatcherServlet",
                          c.pick(["%s \"%s\", parameters={}" % (c.method(), c.path().split("?")[0]),
                                  "Completed %d %s" % (c.status(), c.pick(["OK", "CREATED",
                                                                           "NOT_FOUND"]))])))
    if r < 0.775:
        return _ev(spring(c, "INFO", "com.zaxxer.hikari.pool.HikariPool",
                          "HikariPool-1 - Pool stats (total=%d, active=%d, idle=%d, waiting=0)"
                          % (20, c.n(0, 12), c.n(8, 20)), "HikariPool-1 housekeeper"))
    if r < 0.78:  # a client-credentials token is fetched about hourly
        return _ev(spring(c, "INFO", "o.s.s.oauth2.client.OAuth2AuthorizedClientManager",
                          "Refreshing OAuth2 access token for client registration 'payments-svc' "
                          "(expires in %ds)" % c.n(60, 300)))
    if r < 0.84:
        return _ev(spring(c, "WARN", "o.s.c.c.c.ConfigServerConfigDataLoader",
                          "Could not locate PropertySource ([ConfigServerConfigDataResource@%s "
                          "uris = array<String>['http://config-server.shop.svc:8888'], optional ="
                          " true, profiles = 'prod']): I/O error on GET request for "
                          "\"http://config-server.shop.svc:8888/%s/prod\": Connection refused"
                          % (c.hex(8), app)))
    if r < 0.92:
        return _ev(spring(c, "INFO", "o.a.k.clients.consumer.internals.ConsumerCoordinator",
                          "[Consumer clientId=consumer-%s-1, groupId=%s] Setting offset for "
                          "partition orders-%d to the committed offset FetchPosition{offset=%d,"
                          " offsetEpoch=Optional.empty, currentLeader=LeaderAndEpoch{leader="
                          "Optional[kafka-0.kafka-headless.data.svc.cluster.local:9092 (id: 0 "
                          "rack: null)], epoch=%d}}" % (app, app, c.n(0, 11), c.n(1000, 9999999),
                                                        c.n(1, 30)), "ntainer#0-0-C-1"))
    return _ev(spring(c, "INFO", "c.a.shop.%s.health.ReadinessProbe" % app,
                      "readiness check ok (db=UP, kafka=UP, redis=UP) in %d ms" % c.n(1, 30)))


def java_exception(c):
    app = c.container_app
    head = spring(c, "ERROR", "o.a.c.c.C.[.[.[/].[dispatcherServlet]",
                  "Servlet.service() for servlet [dispatcherServlet] in context with path [] "
                  "threw exception [Request processing failed: org.springframework.web.client."
                  "ResourceAccessException: I/O error on POST request for \"http://%s.shop.svc."
                  "cluster.local:8080/v1/%s\": Read timed out] with root cause" % (
                      c.pick(SERVICES), c.pick(["score", "reserve", "quote"])))
    cause = c.pick(["java.net.SocketTimeoutException: Read timed out",
                    "java.net.ConnectException: Connection refused",
                    "org.postgresql.util.PSQLException: ERROR: canceling statement due to "
                    "statement timeout"])
    lines = [head, ("stdout", T_NONE, ""), ("stdout", T_NONE, cause)]
    own = ["\tat com.acme.shop.%s.client.%sClient.post(%sClient.java:%d) ~[classes/:1.%d.0]" % (
        app, app.capitalize(), app.capitalize(), c.n(40, 200), c.n(20, 60)),
        "\tat com.acme.shop.%s.service.%sService.handle(%sService.java:%d) ~[classes/:1.%d.0]" % (
        app, app.capitalize(), app.capitalize(), c.n(40, 300), c.n(20, 60)),
        "\tat com.acme.shop.%s.web.%sController.create(%sController.java:%d) ~[classes/:1.%d.0]"
        % (app, app.capitalize(), app.capitalize(), c.n(30, 120), c.n(20, 60))]
    lib = ["\tat java.base/sun.nio.ch.NioSocketImpl.timedFinishRead(NioSocketImpl.java:288) "
           "~[na:na]",
           "\tat java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:314) ~[na:na]",
           "\tat java.base/java.net.Socket$SocketInputStream.read(Socket.java:1099) ~[na:na]",
           "\tat org.springframework.web.client.RestTemplate.doExecute(RestTemplate.java:"
           "915) ~[spring-web-6.1.14.jar!/:6.1.14]"]
    depth = c.n(10, len(JAVA_FRAMES))
    for fr in lib + own:
        lines.append(("stdout", T_NONE, fr))
    for fr in JAVA_FRAMES[len(JAVA_FRAMES) - depth:]:
        jar = fr.split(".")[1]
        lines.append(("stdout", T_NONE, "\tat %s ~[%s.jar!/:na]" % (fr, jar)))
    return lines


def python_app(c):
    r = c.r()
    if r < 0.6:
        path = c.path()
        ua = "kube-probe/1.31" if path in ("/healthz", "/readyz", "/livez") else c.pick(
            INTERNAL_AGENTS)
        return _ev(("stdout", T_CLF, '%s - - [%s] "%s %s HTTP/1.1" %d %d "-" "%s"' % (
            c.ip(), TIME, c.method(), path, c.status(), c.n(0, 30000), ua)))
    if r < 0.9:
        return _ev(("stderr", T_COMMA_MS, "%s %s %s: %s" % (TIME, c.pick(["INFO", "INFO",
                                                                           "WARNING"]),
                                                            c.pick(["catalog.views",
                                                                    "catalog.search",
                                                                    "catalog.cache"]), c.pick([
            "served product %s from cache (hit ratio %.2f)" % (c.sku(), c.r()),
            "search q=%s returned %d results in %d ms" % (c.pick(SEARCH_TERMS), c.n(0, 400),
                                                          c.n(2, 300)),
            "reindexed %d products for category %s" % (c.n(10, 900), c.pick(CATEGORIES)),
            "cache eviction: %d keys, memory %.1f MiB" % (c.n(10, 9000), c.r() * 500),
        ]))))
    return _ev(("stderr", T_SP_S, "[%s +0000] [%d] [INFO] %s" % (TIME, c.n(7, 40), c.pick([
        "Booting worker with pid: %d" % c.n(7, 400),
        "Worker exiting (pid: %d)" % c.n(7, 400),
        "Handling signal: winch"]))))


def python_traceback(c):
    lines = [("stderr", T_COMMA_MS, "%s ERROR catalog.views: unhandled error on GET /api/v1/"
              "products/%s" % (TIME, c.sku())),
             ("stderr", T_NONE, "Traceback (most recent call last):")]
    for f, ln, fn, code in [
            ("/usr/local/lib/python3.12/site-packages/django/core/handlers/exception.py", 55,
             "inner", "response = get_response(request)"),
            ("/usr/local/lib/python3.12/site-packages/django/core/handlers/base.py", 197,
             "_get_response", "response = wrapped_callback(request, *callback_args, "
             "**callback_kwargs)"),
            ("/app/catalog/views.py", c.n(40, 200), "product_detail",
             "product = repo.fetch(sku)"),
            ("/app/catalog/repo.py", c.n(20, 120), "fetch", "cur.execute(SQL_FETCH, (sku,))")]:
        lines.append(("stderr", T_NONE, '  File "%s", line %d, in %s' % (f, ln, fn)))
        lines.append(("stderr", T_NONE, "    " + code))
    lines.append(("stderr", T_NONE, "psycopg2.OperationalError: server closed the connection "
                  "unexpectedly"))
    lines.append(("stderr", T_NONE, "\tThis probably means the server terminated abnormally"))
    lines.append(("stderr", T_NONE, "\tbefore or while processing the request."))
    return lines


def postgres(c):
    table = c.pick(sorted(TABLES))
    cols = TABLES[table]
    r = c.r()
    pid = c.n(100, 30000)
    pre = "%s UTC [%d] " % (TIME, pid)
    if r < 0.55:
        k = c.n(1, min(3, len(cols)))
        if c.r() < 0.7:
            sql = "SELECT %s FROM %s WHERE %s ORDER BY %s DESC LIMIT $%d" % (
                ", ".join(cols), table, " AND ".join("%s = $%d" % (cols[i], i + 1)
                                                     for i in range(k)), cols[-1], k + 1)
        elif c.r() < 0.5:
            sql = "INSERT INTO %s (%s) VALUES (%s)" % (table, ", ".join(cols[1:]), ", ".join(
                "$%d" % (i + 1) for i in range(len(cols) - 1)))
        else:
            sql = "UPDATE %s SET %s = $1, updated_at = now() WHERE id = $2" % (table, cols[-2])
        return _ev(("stderr", T_SP_MS, pre + "LOG:  duration: %.3f ms  execute %s: %s" % (
            c.ms() / 10, c.pick(["<unnamed>", "S_%d" % c.n(1, 40)]), sql)))
    if r < 0.62:
        return _ev(("stderr", T_SP_MS, pre + "LOG:  duration: %.3f ms  statement: %s" % (
            c.ms() / 50, c.pick(["BEGIN", "COMMIT", "ROLLBACK", "SELECT 1",
                                 "SET application_name = 'PostgreSQL JDBC Driver'"]))))
    if r < 0.75:
        return _ev(("stderr", T_SP_MS, pre + "LOG:  connection received: host=%s port=%d" % (
                    c.ip(), c.port())),
                   ("stderr", T_SP_MS, "%s UTC [%d] LOG:  connection authorized: user=%s "
                    "database=shop application_name=%s SSL enabled (protocol=TLSv1.3, cipher="
                    "TLS_AES_256_GCM_SHA384, bits=256)" % (TIME, pid, c.pick(
                        ["shop", "shop", "reporting", "migrator"]), c.pick(
                        ["PostgreSQL JDBC Driver", "psycopg", "pgx"]))))
    if r < 0.85:
        return _ev(("stderr", T_SP_MS, pre + "LOG:  disconnection: session time: 0:%02d:%02d.%03d"
                    " user=shop database=shop host=%s port=%d" % (
                        c.n(0, 59), c.n(0, 59), c.n(0, 999), c.ip(), c.port())))
    if r < 0.90:
        return _ev(("stderr", T_SP_MS, pre + "LOG:  automatic vacuum of table \"shop.public.%s\""
                    ": index scans: 1" % table),
                   ("stderr", T_NONE, "\tpages: 0 removed, %d remain, %d scanned (%.2f%% of total)"
                    % (c.n(100, 90000), c.n(10, 900), c.r() * 100)),
                   ("stderr", T_NONE, "\ttuples: %d removed, %d remain, 0 are dead but not yet "
                    "removable" % (c.n(10, 9000), c.n(1000, 900000))),
                   ("stderr", T_NONE, "\tavg read rate: %.3f MB/s, avg write rate: %.3f MB/s" % (
                       c.r() * 20, c.r() * 10)))
    if r < 0.95:
        return _ev(("stderr", T_SP_MS, pre + "LOG:  checkpoint complete: wrote %d buffers "
                    "(%.1f%%); 0 WAL file(s) added, 0 removed, %d recycled; write=%.3f s, "
                    "sync=%.3f s, total=%.3f s; sync files=%d, longest=%.3f s, average=%.3f s; "
                    "distance=%d kB, estimate=%d kB; lsn=%X/%08X, redo lsn=%X/%08X" % (
                        c.n(100, 9000), c.r() * 10, c.n(0, 3), c.r() * 200, c.r() / 10,
                        c.r() * 200, c.n(10, 90), c.r() / 100, c.r() / 1000, c.n(1000, 90000),
                        c.n(1000, 90000), c.n(1, 9), c.n(0, 2**32 - 1), c.n(1, 9),
                        c.n(0, 2**32 - 1))))
    if r < 0.998:
        return _ev(("stderr", T_SP_MS, pre + "ERROR:  duplicate key value violates unique "
                    "constraint \"%s_pkey\"" % table),
                   ("stderr", T_SP_MS, pre + "DETAIL:  Key (id) already exists."),
                   ("stderr", T_SP_MS, pre + "STATEMENT:  INSERT INTO %s (%s) VALUES (%s)" % (
                       table, ", ".join(cols), ", ".join("$%d" % (i + 1)
                                                         for i in range(len(cols))))))
    return _ev(("stderr", T_SP_MS, pre + "FATAL:  password authentication failed for user "
                "\"reporting\""),
               ("stderr", T_SP_MS, pre + "DETAIL:  Connection matched file \"/var/lib/postgresql"
                "/data/pg_hba.conf\" line 99: \"host all all all scram-sha-256\""))


def pg_exporter(c):
    return _ev(("stderr", T_ISO_MS, "ts=%s caller=%s level=%s msg=%s" % (TIME, c.pick([
        "postgres_exporter.go:%d" % c.n(600, 700), "server.go:%d" % c.n(70, 80),
        "collector.go:%d" % c.n(190, 210)]), c.pick(["info", "info", "error"]), c.pick([
            '"Established new database connection" fingerprint=postgres-0.postgres.data.svc:5432',
            '"collector succeeded" name=stat_bgwriter duration_seconds=%.6f' % (c.ms() / 1000),
            '"Semantic version changed" server=postgres-0.postgres.data.svc:5432 from=0.0.0 '
            'to=16.4.0',
            '"Error opening connection to database" err="dial tcp 10.244.%d.%d:5432: connect: '
            'connection refused"' % (c.n(0, 5), c.n(2, 250))]))))


def redis(c):
    pid = c.n(20, 9000)
    return _ev(("stdout", T_REDIS, c.pick([
        "1:M %s * %d changes in 300 seconds. Saving..." % (TIME, c.n(100, 9000)),
        "1:M %s * Background saving started by pid %d" % (TIME, pid),
        "%d:C %s * DB saved on disk" % (pid, TIME),
        "%d:C %s * Fork CoW for RDB: current %d MB, peak %d MB, average %d MB" % (
            pid, TIME, c.n(0, 9), c.n(1, 20), c.n(0, 9)),
        "1:M %s * Background saving terminated with success" % TIME,
    ])))


def kafka(c):
    part = "orders-%d" % c.n(0, 11)
    return _ev(("stdout", T_COMMA_MS, "[%s] INFO %s" % (TIME, c.pick([
        "[LocalLog partition=%s, dir=/var/lib/kafka/data] Rolled new log segment at offset %d "
        "in %d ms. (kafka.log.LocalLog)" % (part, c.n(1000, 9999999), c.n(0, 9)),
        "[ProducerStateManager partition=%s] Wrote producer snapshot at offset %d with 0 producer "
        "ids in %d ms. (kafka.log.ProducerStateManager)" % (part, c.n(1000, 9999999), c.n(0, 9)),
        "[GroupCoordinator 0]: Preparing to rebalance group %s in state PreparingRebalance with "
        "old generation %d (__consumer_offsets-%d) (reason: Removing member consumer-%s-1-%s on "
        "heartbeat expiration) (kafka.coordinator.group.GroupCoordinator)" % (
            c.pick(SERVICES), c.n(1, 400), c.n(0, 49), c.pick(SERVICES), c.uuid()),
        "[GroupMetadataManager brokerId=0] Removed %d expired offsets in %d milliseconds. "
        "(kafka.coordinator.group.GroupMetadataManager)" % (c.n(0, 40), c.n(0, 9)),
        "[UnifiedLog partition=%s, dir=/var/lib/kafka/data] Deleting segment LogSegment(baseOffset"
        "=%d, size=%d, lastModifiedTime=%d, largestRecordTimestamp=%d) due to retention size %d "
        "breach. Log size after deletion will be %d. (kafka.log.UnifiedLog)" % (
            part, c.n(1000, 999999), c.n(10**6, 10**9), (START - 86400) * 1000,
            (START - 86400) * 1000, 10**9, c.n(10**8, 10**9)),
    ]))))


def zookeeper(c):
    return _ev(("stdout", T_COMMA_MS, "%s [myid:1] - INFO  [%s] - %s" % (TIME, c.pick([
        "NIOWorkerThread-%d:o.a.z.s.NIOServerCnxn@%d" % (c.n(1, 8), c.n(500, 600)),
        "SessionTracker:o.a.z.s.ZooKeeperServer@%d" % c.n(600, 700),
        "SyncThread:0:o.a.z.s.p.FileTxnLog@%d" % c.n(200, 300)]), c.pick([
            "Processing mntr command from /%s:%d" % (c.ip(), c.port()),
            "Expiring session 0x%s, timeout of 18000ms exceeded" % c.hex(16),
            "Creating new log file: log.%x" % c.n(0x1000, 0xfffff)]))))


def long_json(c):
    """A message over 16 KiB (a feature-flag dump): split into partial lines by the runtime."""
    flags = ",".join('"%s_%s_%d":{"enabled":%s,"rollout":%d,"variant":"%s"}' % (
        c.pick(["checkout", "catalog", "cart", "search", "pricing"]),
        c.pick(["new_ui", "fast_path", "ab_test", "cache", "ranking", "bundle"]), i,
        c.pick(["true", "false"]), c.n(0, 100), c.pick(["control", "treatment-a", "treatment-b"]))
        for i in range(c.n(250, 900)))
    return _ev(("stdout", T_EPOCH_F, '{"level":"debug","ts":%s,"caller":"flags/loader.go:88",'
                '"msg":"feature flags loaded","request_id":"%s","flags":{%s}}' % (TIME, RID,
                                                                               flags)))


def long_pino(c):
    """A request log carrying a large response summary (a product listing): over 16 KiB."""
    items = ",".join('{"sku":"%s","name":"%s","price_cents":%d,"stock":%d,"tags":["%s","%s"]}' % (
        c.sku(), c.pick(["Trail Runner 3", "Rain Shell", "Merino Socks", "Daypack 22L",
                         "Down Vest", "Canvas Tote", "Enamel Mug"]), c.n(500, 30000),
        c.n(0, 400), c.pick(CATEGORIES), c.pick(CATEGORIES)) for _ in range(c.n(200, 500)))
    return _ev(("stdout", T_EPOCH_MS, '{"level":20,"time":%s,"pid":1,"hostname":"%s","reqId":'
                '"%s","msg":"listing rendered","items":[%s]}' % (TIME, c.pod, RID, items)))


def long_argocd(c):
    res = ",".join("{Group:%s,Version:v1,Kind:%s,Namespace:shop,Name:%s-%d,Status:Synced,"
                   "Health:Healthy,Hook:false,RequiresPruning:false,SyncWave:0}" % (
                       c.pick(["apps", "", "networking.k8s.io", "policy", "autoscaling"]),
                       c.pick(["Deployment", "Service", "ConfigMap", "Ingress",
                               "PodDisruptionBudget", "HorizontalPodAutoscaler"]),
                       c.pick(SERVICES), i) for i in range(c.n(120, 400)))
    return _ev(logrus(c, "debug", "Comparison result: resources=[%s]" % res,
                      "application=argocd/shop-%s" % c.pick(SERVICES)))


# Profiles: common (weight, family) drawn into the pool; rare (probability per event, family).
PROFILES = {
    "ingress": ([(96, nginx_access), (4, nginx_controller)], [(1 / 20000, nginx_secret_parse)]),
    "envoy_sidecar": ([(97, lambda c: envoy_access(c, c.r() < 0.6)), (3, istio_agent)], []),
    "envoy_gateway": ([(98, lambda c: envoy_access(c, False)), (2, istio_agent)], []),
    "istiod": ([(1, istiod)], []),
    "coredns": ([(1, coredns)], []),
    "kube_proxy": ([(1, kube_proxy)], []),
    "calico": ([(1, calico)], []),
    "kcm": ([(1, kcm)], []),
    "scheduler": ([(1, scheduler)], []),
    "metrics_server": ([(1, metrics_server)], []),
    "ksm": ([(1, ksm)], []),
    "prometheus": ([(1, logfmt_prometheus)], []),
    "config_reloader": ([(1, logfmt_reloader)], []),
    "alertmanager": ([(1, alertmanager)], []),
    "grafana": ([(1, grafana)], []),
    "node_exporter": ([(1, node_exporter)], []),
    "cert_manager": ([(1, cert_manager)], []),
    "cainjector": ([(1, cainjector)], []),
    "cm_webhook": ([(1, cm_webhook)], []),
    "argocd_controller": ([(1, argocd_controller)], [(1 / 4000, long_argocd)]),
    "argocd_repo": ([(1, argocd_repo)], [(1 / 10000, long_argocd)]),
    "argocd_server": ([(1, argocd_server)], []),
    "image_updater": ([(1, image_updater)], []),
    "node_app": ([(90, pino_json), (10, pino_other)], [(1 / 20000, long_pino)]),
    "java_app": ([(998, java_app), (2, java_exception)], []),
    "go_app": ([(1, zap_json)], [(1 / 50000, go_panic), (1 / 20000, long_json)]),
    "python_app": ([(998, python_app), (2, python_traceback)], []),
    "postgres": ([(1, postgres)], []),
    "pg_exporter": ([(1, pg_exporter)], []),
    "redis": ([(1, redis)], []),
    "kafka": ([(1, kafka)], []),
    "zookeeper": ([(1, zookeeper)], []),
}

# (namespace, pod name base, workload kind, [(container, profile, relative size)])
PODS = [
    ("kube-system", "coredns", "deploy", [("coredns", "coredns", 4.0)]),
    ("kube-system", "coredns", "deploy", [("coredns", "coredns", 4.0)]),
    ("kube-system", "kube-proxy", "ds", [("kube-proxy", "kube_proxy", 0.4)]),
    ("kube-system", "kube-proxy", "ds", [("kube-proxy", "kube_proxy", 0.4)]),
    ("kube-system", "calico-node", "ds", [("calico-node", "calico", 1.5)]),
    ("kube-system", "kube-controller-manager", "static", [
        ("kube-controller-manager", "kcm", 2.5)]),
    ("kube-system", "kube-scheduler", "static", [("kube-scheduler", "scheduler", 0.8)]),
    ("kube-system", "metrics-server", "deploy", [("metrics-server", "metrics_server", 0.5)]),
    ("ingress-nginx", "ingress-nginx-controller", "deploy", [("controller", "ingress", 7.0)]),
    ("ingress-nginx", "ingress-nginx-controller", "deploy", [("controller", "ingress", 7.0)]),
    ("istio-system", "istiod", "deploy", [("discovery", "istiod", 2.0)]),
    ("istio-system", "istio-ingressgateway", "deploy", [("istio-proxy", "envoy_gateway", 4.0)]),
    ("monitoring", "prometheus-k8s", "sts", [("prometheus", "prometheus", 1.5),
                                             ("config-reloader", "config_reloader", 0.1)]),
    ("monitoring", "alertmanager-main", "sts", [("alertmanager", "alertmanager", 0.4)]),
    ("monitoring", "grafana", "deploy", [("grafana", "grafana", 1.5)]),
    ("monitoring", "kube-state-metrics", "deploy", [("kube-state-metrics", "ksm", 0.3)]),
    ("monitoring", "node-exporter", "ds", [("node-exporter", "node_exporter", 0.1)]),
    ("cert-manager", "cert-manager", "deploy", [("cert-manager-controller", "cert_manager", 0.8)]),
    ("cert-manager", "cert-manager-cainjector", "deploy", [
        ("cert-manager-cainjector", "cainjector", 0.3)]),
    ("cert-manager", "cert-manager-webhook", "deploy", [("cert-manager-webhook", "cm_webhook",
                                                         0.3)]),
    ("argocd", "argocd-application-controller", "sts", [
        ("argocd-application-controller", "argocd_controller", 2.5)]),
    ("argocd", "argocd-repo-server", "deploy", [("argocd-repo-server", "argocd_repo", 1.5)]),
    ("argocd", "argocd-server", "deploy", [("argocd-server", "argocd_server", 1.0)]),
    ("argocd", "argocd-image-updater", "deploy", [("argocd-image-updater", "image_updater", 0.5)]),
    ("shop", "frontend", "deploy", [("frontend", "node_app", 2.5),
                                    ("istio-proxy", "envoy_sidecar", 2.5)]),
    ("shop", "cart", "deploy", [("cart", "java_app", 5.0), ("istio-proxy", "envoy_sidecar", 2.5)]),
    ("shop", "checkout", "deploy", [("checkout", "go_app", 5.0),
                                    ("istio-proxy", "envoy_sidecar", 2.5)]),
    ("shop", "payments", "deploy", [("payments", "java_app", 3.0),
                                    ("istio-proxy", "envoy_sidecar", 2.0)]),
    ("shop", "catalog", "deploy", [("catalog", "python_app", 6.0),
                                   ("istio-proxy", "envoy_sidecar", 2.5)]),
    ("data", "postgres", "sts", [("postgres", "postgres", 5.0),
                                 ("postgres-exporter", "pg_exporter", 0.2)]),
    ("data", "redis", "sts", [("redis", "redis", 0.2)]),
    ("data", "kafka", "sts", [("kafka", "kafka", 1.5)]),
    ("data", "zookeeper", "sts", [("zookeeper", "zookeeper", 0.3)]),
]


def plan(seed, size_mb):
    """The containers, their formats and sizes: all drawn from the seed."""
    rng = random.Random("%s/plan" % seed)
    alphabet = "bcdfghjklmnpqrstvwxz2456789"  # the kube name generator's
    sts_index, containers = {}, []
    for ns, base, kind, ctrs in PODS:
        node = rng.choice(NODES)
        if kind == "deploy":
            pod = "%s-%s-%s" % (base, "".join(rng.choice(alphabet) for _ in range(rng.choice(
                [9, 10]))), "".join(rng.choice(alphabet) for _ in range(5)))
        elif kind == "ds":
            pod = "%s-%s" % (base, "".join(rng.choice(alphabet) for _ in range(5)))
        elif kind == "sts":
            i = sts_index.get(base, 0)
            sts_index[base] = i + 1
            pod = "%s-%d" % (base, i)
        else:
            pod = "%s-%s" % (base, node)
        # Static pods' uid is the manifest's hash; the others a UUID.
        uid = "%032x" % rng.getrandbits(128) if kind == "static" else str(
            _uuid_from(rng.getrandbits(128)))
        for name, profile, weight in ctrs:
            containers.append(dict(ns=ns, pod=pod, uid=uid, container=name, profile=profile,
                                   node=node, weight=weight * rng.uniform(0.8, 1.25)))
    # Half CRI, half Docker json-file, in a seeded order.
    fmts = ["cri", "docker"] * (len(containers) // 2) + ["cri"] * (len(containers) % 2)
    rng.shuffle(fmts)
    total_w = sum(c["weight"] for c in containers)
    for c, f in zip(containers, fmts):
        c["format"] = f
        c["bytes"] = max(4096, int(size_mb * 1_000_000 * c["weight"] / total_w))
        c["seed"] = "%s/%s/%s/%s" % (seed, c["ns"], c["pod"], c["container"])
    return containers


def _uuid_from(bits):
    h = "%032x" % bits
    return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) & 3], h[17:20],
                                  h[20:])


# ---------------------------------------------------------------------------------------------
# Writing


def docker_escape(s):
    # json.dumps as the log driver would, plus Go's HTML-safe escaping of <, > and & that
    # Docker's json-file writer applies; UTF-8 is written as is.
    return (json.dumps(s, ensure_ascii=False)[1:-1].replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))


def compile_event(c, ev, docker):
    """Lines of an event as (stream, time kind, a, b, id kind, c, raw): the message is
    a + time + b + id + c; `raw` holds the unescaped parts of a message long enough to be split
    (the runtime splits the raw text, Docker escapes each piece), else None."""
    out = []
    for stream, tkind, msg in ev:
        if RID in msg and TRACE in msg:  # one id per line is drawn fresh, the other pooled
            msg = msg.replace(TRACE, c.hex(32))
        if TIME in msg:
            a, rest = msg.split(TIME, 1)
        else:
            a, rest = "", msg
            tkind = T_NONE
        idk, b, cc = 0, rest, ""
        for marker, k in ((RID, 1), (TRACE, 2)):
            if marker in rest:
                b, cc = rest.split(marker, 1)
                idk = k
                break
        assert TIME not in rest and RID not in cc and TRACE not in cc and RID not in a, msg
        raw = (a, b, cc) if len(a) + len(b) + len(cc) > SPLIT - 200 else None
        if docker:
            a, b, cc = docker_escape(a), docker_escape(b), docker_escape(cc)
        out.append((stream, tkind, a, b, idk, cc, raw))
    return out


class Clock:
    """Formats nanosecond timestamps, caching the per-second parts."""

    def __init__(self):
        self.sec = None

    def _second(self, sec):
        tm = time.gmtime(sec)
        self.sec = sec
        self.ymd = "%04d-%02d-%02d" % (tm.tm_year, tm.tm_mon, tm.tm_mday)
        self.hms = "%02d:%02d:%02d" % (tm.tm_hour, tm.tm_min, tm.tm_sec)
        self.iso = self.ymd + "T" + self.hms
        self.sp = self.ymd + " " + self.hms
        self.klog = "%02d%02d %s" % (tm.tm_mon, tm.tm_mday, self.hms)
        mon = MONTHS[tm.tm_mon - 1]
        self.clf = "%02d/%s/%04d:%s +0000" % (tm.tm_mday, mon, tm.tm_year, self.hms)
        self.redis = "%02d %s %04d %s" % (tm.tm_mday, mon, tm.tm_year, self.hms)

    def rfc3339nano(self, t):
        sec, ns = divmod(t, 1_000_000_000)
        if sec != self.sec:
            self._second(sec)
        if ns == 0:
            return self.iso + "Z"
        return "%s.%sZ" % (self.iso, ("%09d" % ns).rstrip("0"))

    def fmt(self, kind, t):
        sec, ns = divmod(t, 1_000_000_000)
        if sec != self.sec:
            self._second(sec)
        if kind == T_KLOG:
            return "%s.%06d" % (self.klog, ns // 1000)
        if kind == T_ISO_MS:
            return "%s.%03dZ" % (self.iso, ns // 1_000_000)
        if kind == T_EPOCH_F:
            return "%d.%07d" % (sec, ns // 100)
        if kind == T_CLF:
            return self.clf
        if kind == T_SP_MS:
            return "%s.%03d" % (self.sp, ns // 1_000_000)
        if kind == T_COMMA_MS:
            return "%s,%03d" % (self.sp, ns // 1_000_000)
        if kind == T_ISO_US:
            return "%s.%06dZ" % (self.iso, ns // 1000)
        if kind == T_ISO_S:
            return self.iso + "Z"
        if kind == T_EPOCH_MS:
            return "%d%03d" % (sec, ns // 1_000_000)
        if kind == T_REDIS:
            return "%s.%03d" % (self.redis, ns // 1_000_000)
        if kind == T_SP_S:
            return self.sp
        if kind == T_SLASH:
            return self.ymd.replace("-", "/") + " " + self.hms
        return ""


def write_container(spec, out_dir):
    rng = random.Random(spec["seed"])
    c = Ctx(rng, spec["ns"], spec["pod"], spec["container"], spec["node"])
    c.container_app = spec["pod"].split("-")[0] if spec["ns"] == "shop" else spec["container"]
    docker = spec["format"] == "docker"
    common, rare = PROFILES[spec["profile"]]
    cum = _cum([w for w, _ in common])
    fams = [f for _, f in common]
    pool = [compile_event(c, _weighted(fams, cum, rng.random())(c), docker)
            for _ in range(POOL_EVENTS)]
    rare_evs = [(p, [compile_event(c, f(c), docker) for _ in range(4)]) for p, f in rare]
    rare_total = sum(p for p, _ in rare_evs)

    path = os.path.join(out_dir, "var", "log", "pods",
                        "%s_%s_%s" % (spec["ns"], spec["pod"], spec["uid"]), spec["container"])
    os.makedirs(path, exist_ok=True)
    target = spec["bytes"]
    # Spread the events over the window: the mean gap from the expected number of events.
    wrapper = 75 if docker else 45
    event_bytes = sum(sum(len(x[2]) + len(x[3]) + len(x[5]) + 30 + wrapper for x in ev)
                      for ev in pool) / len(pool)
    mean_gap = WINDOW_S * 1_000_000_000 / max(1.0, target / event_bytes)
    lam = 1.0 / mean_gap
    t = START * 1_000_000_000 + rng.randrange(0, 2_000_000_000)
    lag = rng.randrange(20_000, 400_000)  # the runtime stamps a line after the app does
    clock, app_clock = Clock(), Clock()
    rnd, expo, getbits = rng.random, rng.expovariate, rng.getrandbits
    npool = len(pool)
    written = 0
    buf = []
    blen = 0
    with open(os.path.join(path, "0.log"), "wb") as f:
        while written + blen < target:
            r = rnd()
            if r < rare_total:
                for p, evs in rare_evs:
                    if r < p:
                        ev = evs[int(rnd() * len(evs))]
                        break
                    r -= p
            else:
                ev = pool[int(rnd() * npool)]
            t += int(expo(lam)) + 1
            for stream, tkind, a, b, idk, cc, raw in ev:
                t += 1000 + int(rnd() * 30000)  # lines of one event follow closely
                ts = clock.rfc3339nano(t)
                if raw is not None:
                    a, b, cc = raw
                tstr = app_clock.fmt(tkind, t - lag) if tkind else ""
                if idk == 0:
                    msg = a + tstr + b
                else:
                    h = "%032x" % getbits(128)
                    rid = ("%s-%s-4%s-a%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:])
                           if idk == 1 else h)
                    msg = a + tstr + b + rid + cc
                if raw is None:
                    if docker:
                        line = '{"log":"%s\\n","stream":"%s","time":"%s"}\n' % (msg, stream, ts)
                    else:
                        line = "%s %s F %s\n" % (ts, stream, msg)
                    buf.append(line)
                    blen += len(line)
                    continue
                # Over 16 KiB: containerd writes `P` lines and a final `F`; dockerd writes
                # entries whose `log` lacks the newline but for the last. Both cut the raw text
                # (the long messages are ASCII, so characters are bytes).
                pieces = [msg[i:i + SPLIT] for i in range(0, len(msg), SPLIT)]
                for i, piece in enumerate(pieces):
                    last = i == len(pieces) - 1
                    if docker:
                        line = '{"log":"%s%s","stream":"%s","time":"%s"}\n' % (
                            docker_escape(piece), "\\n" if last else "", stream, ts)
                    else:
                        line = "%s %s %s %s\n" % (ts, stream, "F" if last else "P", piece)
                    buf.append(line)
                    blen += len(line)
            if blen > 1 << 20:
                data = "".join(buf).encode()
                f.write(data)
                written += len(data)
                buf, blen = [], 0
        if buf:
            data = "".join(buf).encode()
            f.write(data)
            written += len(data)
    return written


def _job(args):
    spec, out = args
    return spec["ns"], spec["pod"], spec["container"], spec["format"], write_container(spec, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="directory to write var/log/pods/... under")
    ap.add_argument("--size-mb", type=float, default=1000, help="total size in MB (10^6 bytes)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                    help="containers written at once (the output does not depend on it)")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()
    specs = plan(args.seed, args.size_mb)
    started = time.time()
    work = [(s, args.out) for s in sorted(specs, key=lambda s: -s["bytes"])]
    if args.jobs > 1:
        with Pool(args.jobs) as p:
            results = p.map(_job, work, chunksize=1)
    else:
        results = [_job(w) for w in work]
    total = sum(r[4] for r in results)
    if not args.quiet:
        cri = sum(1 for r in results if r[3] == "cri")
        namespaces = len({r[0] for r in results})
        print("wrote %d containers in %d namespaces (%d CRI, %d json-file), %.1f MB under %s "
              "in %.1f s" % (len(results), namespaces, cri, len(results) - cri, total / 1e6,
                             os.path.join(args.out, "var/log/pods"), time.time() - started),
              file=sys.stderr)


if __name__ == "__main__":
    main()
