//! The field-mapping layer: how upstream Sigma rules' field names and values become fields of
//! credwatch's event shape, so rules written for other tools run unchanged. Kept as tables here,
//! never as special cases in the matcher.

use super::matcher::{Cmp, FieldRef, Item, Matcher, Op, StrKind, Test};
use crate::event::fields;

/// Bare names some rules use for audit fields.
pub static RENAMES: &[(&str, &str)] = &[
    ("apiGroup", "objectRef.apiGroup"),
    ("apiVersion.objectRef", "objectRef.apiVersion"),
];

/// Pod-spec keys rules name bare, meaning "present anywhere in the request body" (SigmaHQ writes
/// `hostPath: '*'` for "the pod mounts a host path").
pub static REQUEST_BODY_KEYS: &[&str] = &[
    "hostPath",
    "capabilities",
    "privileged",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "allowPrivilegeEscalation",
];

/// Resolves a rule's field name, through the renames and body keys, to where it reads.
pub fn resolve(name: &str) -> Result<FieldRef, String> {
    let name = RENAMES
        .iter()
        .find(|(from, _)| *from == name)
        .map_or(name, |(_, to)| to);
    if let Some(def) = fields::lookup(name) {
        return Ok(FieldRef::Catalog(def));
    }
    // Derived before the body paths: this one reads like a path into requestObject.
    if name == super::matcher::CSR_STRINGS {
        return Ok(FieldRef::CsrStrings);
    }
    if REQUEST_BODY_KEYS.contains(&name) {
        return Ok(FieldRef::BodyAnywhere {
            response: false,
            key: name.to_owned(),
        });
    }
    for (prefix, response) in [("requestObject", false), ("responseObject", true)] {
        if let Some(rest) = name.strip_prefix(prefix) {
            if let Some(key) = rest.strip_prefix("..") {
                if !key.is_empty() && !key.contains('.') {
                    return Ok(FieldRef::BodyAnywhere {
                        response,
                        key: key.to_owned(),
                    });
                }
            } else if let Some(path) = rest.strip_prefix('.') {
                let path: Vec<String> = path.split('.').map(str::to_owned).collect();
                if path.iter().all(|p| !p.is_empty()) {
                    return Ok(FieldRef::BodyPath { response, path });
                }
            }
        }
    }
    if name == super::matcher::EXEC_COMMAND {
        return Ok(FieldRef::ExecCommand);
    }
    if let Some(key) = name.strip_prefix("annotations.").filter(|k| !k.is_empty()) {
        return Ok(FieldRef::Annotation(key.to_owned()));
    }
    if let Some(key) = name.strip_prefix("user.extra.").filter(|k| !k.is_empty()) {
        return Ok(FieldRef::UserExtra(key.to_owned()));
    }
    let hint = fields::FIELDS
        .iter()
        .find(|f| {
            f.name.eq_ignore_ascii_case(name)
                || f.name.rsplit('.').next().is_some_and(|last| last == name)
        })
        .map(|f| format!(" (did you mean `{}`?)", f.name))
        .unwrap_or_default();
    Err(format!(
        "unknown field `{name}`{hint}; `credwatch fields` lists them"
    ))
}

/// Values that mean something other than their text for a field: `responseStatus.code: ALLOW`
/// (no real event carries it) means the authorizer allowed the request — the decision
/// annotation says `allow`, or, when the event has no decision, the status is below 400.
pub fn value_meaning(field: &str, value: &str) -> Option<Matcher> {
    if field != "responseStatus.code" || !value.eq_ignore_ascii_case("allow") {
        return None;
    }
    let decision = FieldRef::Catalog(fields::lookup("annotations.authorization.k8s.io/decision")?);
    let code = FieldRef::Catalog(fields::lookup("responseStatus.code")?);
    Some(Matcher::Or(vec![
        Matcher::Item(Item {
            field: decision.clone(),
            test: Test::Values {
                ops: vec![Op::Str {
                    kind: StrKind::Eq,
                    needle: "allow".into(),
                    cased: false,
                }],
                all: false,
                neq: false,
                or_null: false,
            },
        }),
        Matcher::And(vec![
            Matcher::Item(Item {
                field: decision,
                test: Test::Null,
            }),
            Matcher::Item(Item {
                field: code,
                test: Test::Values {
                    ops: vec![Op::Num(Cmp::Lt, 400.0)],
                    all: false,
                    neq: false,
                    or_null: false,
                },
            }),
        ]),
    ]))
}
