//! The rules' tunables (`--config FILE`): DET0198's mutable elements — who is expected to do
//! what (UserContext), which namespaces are sensitive (NamespaceScope), how long sequences may
//! take (TimeWindow), which addresses are the cluster's own (SourceIP) — kept out of rule code.
//!
//! Built-in rules read them through Sigma placeholders (`field|expand: '%name%'`); correlation
//! windows are overridden by rule name; rules and filters are switched off by name. A user's
//! file is merged over the defaults in `config/default.yml`: a placeholder it names is
//! replaced whole, the rest keep their defaults.

use crate::rules::yaml::{self, Node, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The defaults, shipped in the binary (and documented there, one comment per key).
pub static DEFAULTS: &str = include_str!("../config/default.yml");

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Sigma `expand` placeholders: name (without `%`) → values.
    pub placeholders: BTreeMap<String, Vec<String>>,
    /// Correlation windows in seconds, by rule `name` or `id`.
    pub timespans: BTreeMap<String, i64>,
    /// Rules, correlations and filters switched off, by `name` or `id`, with the line that
    /// says so (for "unknown name" errors).
    pub disabled: Vec<(String, String, usize)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
}

impl Config {
    /// The shipped defaults.
    pub fn defaults() -> Config {
        // The defaults are tested (`defaults_parse`); an error here is a build defect.
        Config::parse("builtin:credwatch/config.yml", DEFAULTS, Config::default())
            .unwrap_or_default()
    }

    /// The defaults with the file at `path` merged over them.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        Config::parse(&file, &text, Config::defaults())
    }

    /// Parses `text`, merging it over `base`.
    pub fn parse(file: &str, text: &str, mut base: Config) -> Result<Config, ConfigError> {
        let invalid = |line: usize, message: String| ConfigError::Invalid {
            file: file.to_owned(),
            line,
            message,
        };
        let docs = yaml::parse_documents(text).map_err(|e| invalid(e.line, e.message))?;
        let Some(doc) = docs.into_iter().find(|d| !d.is_null()) else {
            return Ok(base);
        };
        let Some(entries) = doc.entries() else {
            return Err(invalid(doc.line, "the configuration must be a map".into()));
        };
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "placeholders" => {
                    for (name, values) in
                        map_entries(value, "placeholders").map_err(|m| invalid(value.line, m))?
                    {
                        let list = string_list(values).map_err(|m| {
                            invalid(values.line, format!("placeholder `{name}`: {m}"))
                        })?;
                        base.placeholders.insert(name, list);
                    }
                }
                "timespans" => {
                    for (name, span) in
                        map_entries(value, "timespans").map_err(|m| invalid(value.line, m))?
                    {
                        let secs = span
                            .as_str()
                            .and_then(crate::rules::sigma::parse_timespan)
                            .ok_or_else(|| {
                                invalid(
                                    span.line,
                                    format!("timespan of `{name}` must be like 90s, 10m, 2h or 1d"),
                                )
                            })?;
                        base.timespans.insert(name, secs);
                    }
                }
                "disabled" => {
                    let Value::Seq(items) = &value.value else {
                        return Err(invalid(
                            value.line,
                            "`disabled` must be a list of rule or filter names".into(),
                        ));
                    };
                    for item in items {
                        let name = item.as_str().ok_or_else(|| {
                            invalid(
                                item.line,
                                "`disabled` items are rule or filter names".into(),
                            )
                        })?;
                        base.disabled
                            .push((name.to_owned(), file.to_owned(), item.line));
                    }
                }
                other => {
                    return Err(invalid(
                        key.line,
                        format!(
                            "unknown key `{other}` (expected placeholders, timespans or disabled)"
                        ),
                    ));
                }
            }
        }
        Ok(base)
    }

    /// Whether the rule, correlation or filter answering to `id` or `name` is switched off.
    pub fn is_disabled(&self, id: Option<&str>, name: Option<&str>) -> bool {
        self.disabled
            .iter()
            .any(|(d, _, _)| Some(d.as_str()) == id || Some(d.as_str()) == name)
    }
}

fn map_entries<'n>(node: &'n Node, what: &str) -> Result<Vec<(String, &'n Node)>, String> {
    match node.entries() {
        Some(entries) => Ok(entries
            .iter()
            .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), v))
            .collect()),
        None if node.is_null() => Ok(Vec::new()),
        None => Err(format!("`{what}` must be a map")),
    }
}

fn string_list(node: &Node) -> Result<Vec<String>, String> {
    match &node.value {
        Value::Seq(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| "values must be strings".to_owned())
            })
            .collect(),
        Value::Scalar(..) if node.is_null() => Ok(Vec::new()),
        Value::Scalar(s, _) => Ok(vec![s.clone()]),
        Value::Map(_) => Err("must be a list of values".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let c = Config::parse("defaults", DEFAULTS, Config::default()).expect("defaults parse");
        assert!(c.placeholders.contains_key("sensitive_namespaces"));
        assert!(c.placeholders.contains_key("cluster_ranges"));
    }

    #[test]
    fn user_file_merges_over_defaults() {
        let user =
            "placeholders:\n  sensitive_namespaces: [prod]\ntimespans:\n  x: 15m\ndisabled: [y]\n";
        let c = Config::parse("user.yml", user, Config::defaults()).expect("parses");
        assert_eq!(c.placeholders["sensitive_namespaces"], vec!["prod"]);
        assert!(c.placeholders.contains_key("cluster_ranges"), "others kept");
        assert_eq!(c.timespans["x"], 900);
        assert!(c.is_disabled(None, Some("y")));
    }

    #[test]
    fn errors_name_file_and_line() {
        let cases = [
            (
                "placeholders: [a]\n",
                "user.yml:1: `placeholders` must be a map",
            ),
            ("timespans:\n  x: soon\n", "user.yml:2: timespan of `x`"),
            ("colour: blue\n", "user.yml:1: unknown key `colour`"),
            (
                "placeholders:\n  a: {b: c}\n",
                "user.yml:2: placeholder `a`",
            ),
        ];
        for (text, want) in cases {
            let err = Config::parse("user.yml", text, Config::default()).expect_err(text);
            assert!(err.to_string().starts_with(want), "{text:?}: {err}");
        }
    }
}
