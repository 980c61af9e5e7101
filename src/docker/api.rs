//! Docker Engine API calls in the one event shape: an HTTP method and path become a verb, a
//! resource, a subresource and a name, as a Kubernetes request would (`GET
//! /v1.41/containers/app1/json` → `get containers app1`, `POST /containers/app1/exec` →
//! `create containers/exec app1`). The API version prefix is optional and kept apart.

/// One Docker API call, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall {
    pub verb: &'static str,
    pub resource: String,
    pub subresource: Option<String>,
    pub name: Option<String>,
    /// `v1.41` when the path carried it.
    pub api_version: Option<String>,
}

/// Collections whose objects are addressed by a name that may hold `/` (image and plugin
/// references), with the actions that can follow the name.
const SLASHED_NAMES: &[(&str, &[&str])] = &[
    ("images", &["json", "history", "push", "tag", "get"]),
    (
        "plugins",
        &["json", "set", "enable", "disable", "push", "upgrade"],
    ),
    ("distribution", &["json"]),
];

/// The first path segments the Engine API has.
const API_ROOTS: &[&str] = &[
    "_ping",
    "version",
    "info",
    "events",
    "auth",
    "commit",
    "build",
    "containers",
    "exec",
    "images",
    "networks",
    "volumes",
    "secrets",
    "configs",
    "services",
    "nodes",
    "tasks",
    "plugins",
    "swarm",
    "distribution",
    "session",
    "system",
    "grpc",
];

pub fn method_verb(method: &str) -> &'static str {
    match method {
        "GET" | "HEAD" => "get",
        "POST" => "create",
        "PUT" => "update",
        "DELETE" => "delete",
        "PATCH" => "patch",
        _ => "unknown",
    }
}

/// Classifies `METHOD /[vX.Y/]path[?query]`; `None` for a path that is not an API path.
pub fn classify(method: &str, target: &str) -> Option<ApiCall> {
    let path = target.split(['?', '#']).next().unwrap_or(target);
    if !path.starts_with('/') {
        return None;
    }
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let api_version = match segments.first() {
        Some(v)
            if v.starts_with('v')
                && v[1..].contains('.')
                && v[1..].replace('.', "").bytes().all(|b| b.is_ascii_digit()) =>
        {
            let v = (*v).to_owned();
            segments.remove(0);
            Some(v)
        }
        _ => None,
    };
    let method = method.to_ascii_uppercase();
    let verb = method_verb(&method);
    let query = |key: &str| query_value(target, key);
    let call =
        |verb: &'static str, resource: &str, sub: Option<&str>, name: Option<String>| ApiCall {
            verb,
            resource: resource.to_owned(),
            subresource: sub.map(str::to_owned),
            name: name.filter(|n| !n.is_empty()),
            api_version: api_version.clone(),
        };
    let Some((&first, rest)) = segments.split_first() else {
        return Some(call(verb, "_ping", None, None));
    };
    // Only the Engine API's own paths: a web server's `/containers/…` page is no Docker call.
    if !API_ROOTS.contains(&first) {
        return None;
    }
    Some(match (first, rest) {
        ("_ping" | "version" | "info", []) => call(verb, first, None, None),
        ("events", []) => call("watch", "events", None, None),
        ("auth", []) => call(verb, "auth", None, None),
        ("commit", []) => call(verb, "commit", None, query("container")),
        ("build", []) => call(verb, "build", None, query("t")),
        ("containers", ["create"]) => call("create", "containers", None, query("name")),
        ("images", ["create"]) => call("create", "images", None, query("fromImage")),
        (collection, ["json"]) if method == "GET" => call("list", collection, None, None),
        (collection, ["prune"]) if method == "POST" => {
            call("deletecollection", collection, None, None)
        }
        ("swarm", []) => call(verb, "swarm", None, None),
        ("swarm", [action]) => call(verb, "swarm", Some(action), None),
        ("images", ["get"]) => call(verb, "images", Some("get"), query("names")),
        ("images", ["load" | "search"]) => call(verb, "images", Some(rest[0]), None),
        ("plugins", ["privileges" | "pull" | "create"]) => call(
            verb,
            "plugins",
            Some(rest[0]),
            query("remote").or_else(|| query("name")),
        ),
        (collection, []) if method == "GET" => call("list", collection, None, None),
        (collection, []) => call(verb, collection, None, None),
        (collection, ["create"]) => call("create", collection, None, None),
        (collection, names) if SLASHED_NAMES.iter().any(|(c, _)| *c == collection) => {
            let actions = SLASHED_NAMES
                .iter()
                .find(|(c, _)| *c == collection)
                .map(|(_, a)| *a)
                .unwrap_or_default();
            let (name, action) = match names.split_last() {
                Some((last, before)) if actions.contains(last) && !before.is_empty() => {
                    (before.join("/"), Some(*last))
                }
                _ => (names.join("/"), None),
            };
            match action {
                Some("json") => call(verb, collection, None, Some(name)),
                Some(action) => call(verb, collection, Some(action), Some(name)),
                None => call(verb, collection, None, Some(name)),
            }
        }
        (collection, [id]) => call(verb, collection, None, Some((*id).to_owned())),
        (collection, [id, "json"]) => call(verb, collection, None, Some((*id).to_owned())),
        (collection, [id, "update"]) => call("update", collection, None, Some((*id).to_owned())),
        // `attach/ws` is the WebSocket form of attach.
        (collection, [id, action, ..]) => {
            call(verb, collection, Some(action), Some((*id).to_owned()))
        }
    })
}

/// The target as dockerd routes it: an absolute-form target (`http://host/path`) reduced to its
/// path, and the path percent-decoded (`/containers/%63reate` is `/containers/create` to
/// dockerd's router); the query is kept as sent.
pub fn canonical_target(target: &str) -> String {
    let origin_form = match target.split_once("://") {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") =>
        {
            match rest.find(['/', '?']) {
                Some(at) if rest.as_bytes()[at] == b'/' => &rest[at..],
                Some(at) => return format!("/{}", &rest[at..]),
                None => "/",
            }
        }
        _ => target,
    };
    let (path, query) = match origin_form.find('?') {
        Some(at) => origin_form.split_at(at),
        None => (origin_form, ""),
    };
    if !path.contains('%') {
        return origin_form.to_owned();
    }
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                decoded.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    format!("{}{query}", String::from_utf8_lossy(&decoded))
}

/// The value of `key` in a target's query string, percent-decoded.
pub fn query_value(target: &str, key: &str) -> Option<String> {
    let query = target.split_once('?')?.1.split('#').next()?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| crate::event::percent_decode(v))
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn targets_are_read_as_dockerd_routes_them() {
        for (target, canonical) in [
            (
                "/v1.41/containers/%63reate?name=x",
                "/v1.41/containers/create?name=x",
            ),
            ("/containers/app1/%65xec", "/containers/app1/exec"),
            ("/containers%2Fcreate", "/containers/create"),
            (
                "http://docker/v1.41/containers/create",
                "/v1.41/containers/create",
            ),
            ("http://docker?x=1", "/?x=1"),
            ("http://docker", "/"),
            (
                "/containers/app1/archive?path=%2Frun%2Fsecrets",
                "/containers/app1/archive?path=%2Frun%2Fsecrets",
            ),
            ("/containers/app1/json", "/containers/app1/json"),
        ] {
            assert_eq!(canonical_target(target), canonical, "{target}");
        }
    }

    use super::*;

    #[test]
    fn api_paths_become_verbs_and_resources() {
        // (method, target, verb, resource, subresource, name)
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
        );
        let cases: &[Case] = &[
            ("GET", "/_ping", "get", "_ping", None, None),
            ("HEAD", "/_ping", "get", "_ping", None, None),
            ("GET", "/v1.41/version", "get", "version", None, None),
            (
                "GET",
                "/v1.26/containers/json?all=1&filters=%7B%22status%22%3A%7B%22dead%22%3Atrue%7D%7D",
                "list",
                "containers",
                None,
                None,
            ),
            (
                "GET",
                "/v1.41/containers/app1/json",
                "get",
                "containers",
                None,
                Some("app1"),
            ),
            (
                "GET",
                "/containers/app1/logs?stdout=1&follow=1",
                "get",
                "containers",
                Some("logs"),
                Some("app1"),
            ),
            (
                "GET",
                "/v1.41/containers/app1/archive?path=%2Frun%2Fsecrets",
                "get",
                "containers",
                Some("archive"),
                Some("app1"),
            ),
            (
                "HEAD",
                "/v1.41/containers/app1/archive?path=/etc",
                "get",
                "containers",
                Some("archive"),
                Some("app1"),
            ),
            (
                "PUT",
                "/v1.41/containers/app1/archive?path=/tmp",
                "update",
                "containers",
                Some("archive"),
                Some("app1"),
            ),
            (
                "GET",
                "/v1.41/containers/app1/export",
                "get",
                "containers",
                Some("export"),
                Some("app1"),
            ),
            (
                "POST",
                "/v1.41/containers/app1/exec",
                "create",
                "containers",
                Some("exec"),
                Some("app1"),
            ),
            (
                "POST",
                "/v1.41/exec/3f1c9a/start",
                "create",
                "exec",
                Some("start"),
                Some("3f1c9a"),
            ),
            (
                "GET",
                "/v1.41/exec/3f1c9a/json",
                "get",
                "exec",
                None,
                Some("3f1c9a"),
            ),
            (
                "POST",
                "/v1.41/containers/app1/attach?stream=1",
                "create",
                "containers",
                Some("attach"),
                Some("app1"),
            ),
            (
                "GET",
                "/v1.41/containers/app1/attach/ws",
                "get",
                "containers",
                Some("attach"),
                Some("app1"),
            ),
            (
                "GET",
                "/containers/app1/top",
                "get",
                "containers",
                Some("top"),
                Some("app1"),
            ),
            (
                "POST",
                "/v1.41/containers/create?name=web",
                "create",
                "containers",
                None,
                Some("web"),
            ),
            (
                "POST",
                "/v1.41/containers/app1/start",
                "create",
                "containers",
                Some("start"),
                Some("app1"),
            ),
            (
                "DELETE",
                "/v1.41/containers/app1?force=1",
                "delete",
                "containers",
                None,
                Some("app1"),
            ),
            (
                "POST",
                "/v1.41/commit?container=app1&repo=evil%2Fexfil",
                "create",
                "commit",
                None,
                Some("app1"),
            ),
            (
                "POST",
                "/v1.41/images/registry.example.com/team/app/push?tag=1",
                "create",
                "images",
                Some("push"),
                Some("registry.example.com/team/app"),
            ),
            (
                "GET",
                "/v1.41/images/busybox/get",
                "get",
                "images",
                Some("get"),
                Some("busybox"),
            ),
            (
                "GET",
                "/v1.41/images/get?names=app%3A1",
                "get",
                "images",
                Some("get"),
                Some("app:1"),
            ),
            ("GET", "/v1.41/images/json", "list", "images", None, None),
            (
                "POST",
                "/v1.41/images/create?fromImage=busybox",
                "create",
                "images",
                None,
                Some("busybox"),
            ),
            ("POST", "/v1.41/auth", "create", "auth", None, None),
            ("GET", "/v1.41/info", "get", "info", None, None),
            ("GET", "/v1.41/swarm", "get", "swarm", None, None),
            (
                "GET",
                "/v1.41/swarm/unlockkey",
                "get",
                "swarm",
                Some("unlockkey"),
                None,
            ),
            (
                "POST",
                "/v1.41/swarm/join",
                "create",
                "swarm",
                Some("join"),
                None,
            ),
            ("GET", "/v1.41/secrets", "list", "secrets", None, None),
            (
                "GET",
                "/v1.41/secrets/s3cr3tid",
                "get",
                "secrets",
                None,
                Some("s3cr3tid"),
            ),
            (
                "POST",
                "/v1.41/secrets/create",
                "create",
                "secrets",
                None,
                None,
            ),
            (
                "GET",
                "/v1.41/configs/cfg1",
                "get",
                "configs",
                None,
                Some("cfg1"),
            ),
            (
                "POST",
                "/v1.41/services/create",
                "create",
                "services",
                None,
                None,
            ),
            (
                "POST",
                "/v1.41/services/web/update?version=12",
                "update",
                "services",
                None,
                Some("web"),
            ),
            (
                "GET",
                "/v1.41/volumes/data",
                "get",
                "volumes",
                None,
                Some("data"),
            ),
            ("GET", "/v1.41/plugins", "list", "plugins", None, None),
            (
                "GET",
                "/v1.41/plugins/vieux/sshfs:latest/json",
                "get",
                "plugins",
                None,
                Some("vieux/sshfs:latest"),
            ),
            (
                "POST",
                "/v1.41/plugins/vieux/sshfs:latest/set",
                "create",
                "plugins",
                Some("set"),
                Some("vieux/sshfs:latest"),
            ),
            (
                "GET",
                "/v1.41/plugins/privileges?remote=vieux%2Fsshfs",
                "get",
                "plugins",
                Some("privileges"),
                Some("vieux/sshfs"),
            ),
            (
                "GET",
                "/v1.41/events?since=1700000000",
                "watch",
                "events",
                None,
                None,
            ),
            (
                "POST",
                "/v1.41/containers/prune",
                "deletecollection",
                "containers",
                None,
                None,
            ),
            (
                "GET",
                "/v1.41/distribution/busybox:latest/json",
                "get",
                "distribution",
                None,
                Some("busybox:latest"),
            ),
        ];
        for (method, target, verb, resource, sub, name) in cases {
            let call = classify(method, target).unwrap_or_else(|| panic!("{method} {target}"));
            assert_eq!(
                (
                    call.verb,
                    call.resource.as_str(),
                    call.subresource.as_deref(),
                    call.name.as_deref()
                ),
                (*verb, *resource, *sub, *name),
                "{method} {target}"
            );
        }
        assert_eq!(
            classify("GET", "/v1.41/info")
                .and_then(|c| c.api_version)
                .as_deref(),
            Some("v1.41")
        );
        assert!(classify("GET", "containers/json").is_none());
        assert!(classify("GET", "/index.html").is_none());
        assert!(classify("GET", "/v1.41/wp-admin/secrets").is_none());
    }
}
