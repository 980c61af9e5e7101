//! A YAML tree that remembers the line of every node, so rule errors can say `file:line`.
//! Built on yaml-rust2's event parser; anchors and aliases are resolved by copying.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar as written, and whether it was quoted (a quoted `null` or `true` is a string).
    Scalar(String, bool),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// 1-based line where the node starts.
    pub line: usize,
}

/// A YAML scalar's meaning, following YAML 1.2's core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    pub fn scalar(&self) -> Option<Scalar<'_>> {
        let Value::Scalar(s, quoted) = &self.value else {
            return None;
        };
        if *quoted {
            return Some(Scalar::Str(s));
        }
        Some(match s.as_str() {
            "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
            "true" | "True" | "TRUE" => Scalar::Bool(true),
            "false" | "False" | "FALSE" => Scalar::Bool(false),
            _ => {
                if let Ok(i) = s.parse::<i64>() {
                    Scalar::Int(i)
                } else if looks_like_float(s) {
                    s.parse::<f64>().map_or(Scalar::Str(s), Scalar::Float)
                } else {
                    Scalar::Str(s)
                }
            }
        })
    }

    pub fn is_null(&self) -> bool {
        matches!(self.scalar(), Some(Scalar::Null))
    }

    /// The value of `key` in a map node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn entries(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar(..) => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// Converts to JSON (for test events written in YAML).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Seq(items) => items.iter().map(Node::to_json).collect(),
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), v.to_json()))
                    .collect(),
            ),
            Value::Scalar(..) => match self.scalar() {
                Some(Scalar::Null) | None => serde_json::Value::Null,
                Some(Scalar::Bool(b)) => b.into(),
                Some(Scalar::Int(i)) => i.into(),
                Some(Scalar::Float(f)) => f.into(),
                Some(Scalar::Str(s)) => s.into(),
            },
        }
    }
}

fn looks_like_float(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    !body.is_empty()
        && body.bytes().any(|b| b.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}: invalid YAML: {message}")]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

/// Parses every document of a YAML stream.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| YamlError {
        line: e.marker().line(),
        message: e.info().to_owned(),
    })?;
    if let Some(message) = builder.error {
        return Err(YamlError {
            line: builder.error_line,
            message,
        });
    }
    Ok(builder.documents)
}

enum Open {
    Seq(Vec<Node>, usize, usize),
    /// Entries so far, a key waiting for its value, anchor, line.
    Map(Vec<(Node, Node)>, Option<Node>, usize, usize),
}

#[derive(Default)]
struct Builder {
    documents: Vec<Node>,
    stack: Vec<Open>,
    /// Anchored nodes and how many nodes each holds.
    anchors: std::collections::HashMap<usize, (Node, usize)>,
    /// Nodes copied by aliases so far (bounded: a few lines of aliases can otherwise expand
    /// into billions of nodes).
    aliased: usize,
    error: Option<String>,
    error_line: usize,
}

/// Nodes aliases may copy in one stream.
const MAX_ALIASED_NODES: usize = 1_000_000;

fn node_count(node: &Node) -> usize {
    1 + match &node.value {
        Value::Scalar(..) => 0,
        Value::Seq(items) => items.iter().map(node_count).sum(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| node_count(k) + node_count(v))
            .sum(),
    }
}

impl Builder {
    fn push(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            let count = node_count(&node);
            self.anchors.insert(anchor, (node.clone(), count));
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Open::Seq(items, ..)) => items.push(node),
            Some(Open::Map(entries, key, ..)) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let line = mark.line().max(1);
        match event {
            Event::Scalar(text, style, anchor, _) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                self.push(
                    Node {
                        value: Value::Scalar(text, quoted),
                        line,
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Open::Seq(Vec::new(), anchor, line)),
            Event::MappingStart(anchor, _) => {
                self.stack.push(Open::Map(Vec::new(), None, anchor, line))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Open::Seq(items, anchor, line)) => (
                        Node {
                            value: Value::Seq(items),
                            line,
                        },
                        anchor,
                    ),
                    Some(Open::Map(entries, _, anchor, line)) => (
                        Node {
                            value: Value::Map(entries),
                            line,
                        },
                        anchor,
                    ),
                    None => return,
                };
                self.push(node, anchor);
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some((_, count)) if self.aliased + count > MAX_ALIASED_NODES => {
                    if self.error.is_none() {
                        self.error = Some(format!(
                            "aliases expand to more than {MAX_ALIASED_NODES} nodes"
                        ));
                        self.error_line = line;
                    }
                }
                Some((node, count)) => {
                    self.aliased += count;
                    let node = node.clone();
                    self.push(node, 0);
                }
                None => {
                    if self.error.is_none() {
                        self.error = Some(format!("alias to unknown anchor {id}"));
                        self.error_line = line;
                    }
                }
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_scalars() {
        let docs = parse_documents("a: 1\nb:\n  - 'null'\n  - ~\n---\nc: x\n").unwrap();
        assert_eq!(docs.len(), 2);
        let b = docs[0].get("b").unwrap();
        assert_eq!(b.line, 3);
        let Value::Seq(items) = &b.value else {
            panic!("not a list")
        };
        assert_eq!(items[0].scalar(), Some(Scalar::Str("null")));
        assert_eq!(items[1].scalar(), Some(Scalar::Null));
        assert_eq!(docs[0].get("a").unwrap().scalar(), Some(Scalar::Int(1)));
        assert_eq!(docs[1].get("c").unwrap().line, 6);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_documents(&text).unwrap_err();
        assert!(err.message.contains("aliases expand"), "{err}");
    }

    #[test]
    fn errors_name_a_line() {
        let err = parse_documents("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.line >= 2, "{err}");
    }
}
