//! Every YAML call of the crate lives here, so serde_yaml (archived upstream) can be
//! swapped for a maintained fork without touching the rest.
//!
//! Two views of one text: [`parse`] deserialises it straight into typed structs with
//! serde_yaml (a syntax or type error carries line and column), and [`Positions`] maps
//! each key path (`sources[1].columns[0].type`) to its line and column, using
//! yaml-rust2's marked events, so the semantic checks can point at the offending key.

use std::collections::HashMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::error::{ConfigError, Diagnostic};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// Deserialises `text` (the content of `file`) into `T`, reporting the first syntax or
/// type error with its line and column.
pub fn parse<T: DeserializeOwned>(text: &str, file: &Path) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(serde_yaml::Deserializer::from_str(text)).map_err(|e| {
        let path = e.path().to_string();
        let e = e.into_inner();
        let raw = e.to_string();
        // serde_yaml places an error that a value's own conversion raises (an as-of that
        // is not a date) at the start of the enclosing mapping; the path to the value
        // finds the value itself (the key, for an unknown field).
        let unknown_field = raw.starts_with("unknown field `") || raw.contains(": unknown field `");
        let (line, column) = match Positions::index(text).exact(&path, unknown_field) {
            Some(p) => (p.line, p.column),
            None => e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0)),
        };
        // serde_yaml appends " at line L column C"; the diagnostic carries it already.
        let message = match raw.find(" at line ") {
            Some(i) => raw[..i].to_string(),
            None => raw,
        };
        let message = with_field_suggestion(message);
        ConfigError {
            diagnostics: vec![Diagnostic {
                file: file.to_path_buf(),
                line,
                column,
                code: "E001",
                message,
            }],
        }
    })
}

/// Adds "did you mean" to serde's "unknown field `x`, expected one of `a`, `b`" and
/// "unknown variant `x`, expected `a` or `b`".
fn with_field_suggestion(message: String) -> String {
    let Some((start, prefix)) = ["unknown field `", "unknown variant `"]
        .into_iter()
        .find_map(|p| message.find(p).map(|i| (i, p)))
    else {
        return message;
    };
    let rest = &message[start + prefix.len()..];
    let Some(end) = rest.find('`') else {
        return message;
    };
    let field = &rest[..end];
    let candidates: Vec<&str> = rest[end + 1..]
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s)
        .collect();
    match crate::util::suggest(field, candidates.iter().copied()) {
        Some(s) => format!("{message}; did you mean `{s}`?"),
        None => message,
    }
}

/// Line and column of every key and value in a YAML document, by path.
#[derive(Debug, Default)]
pub struct Positions {
    keys: HashMap<String, Pos>,
    values: HashMap<String, Pos>,
}

impl Positions {
    /// Indexes `text`. A text that does not parse yields an empty index (the serde pass
    /// reports the syntax error).
    pub fn index(text: &str) -> Positions {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut builder, false).is_err() {
            return Positions::default();
        }
        Positions {
            keys: builder.keys,
            values: builder.values,
        }
    }

    /// Position of the key (or sequence item) at `path`, falling back to the nearest
    /// ancestor that exists.
    pub fn key(&self, path: &str) -> Pos {
        self.lookup(&self.keys, path)
    }

    /// Position of the value (or, with `key`, of the key) at exactly `path`.
    pub fn exact(&self, path: &str, key: bool) -> Option<Pos> {
        let (first, second) = if key {
            (&self.keys, &self.values)
        } else {
            (&self.values, &self.keys)
        };
        first.get(path).or_else(|| second.get(path)).copied()
    }

    /// Position of the value at `path` (falls back like [`Positions::key`]).
    pub fn value(&self, path: &str) -> Pos {
        self.lookup(&self.values, path)
    }

    fn lookup(&self, map: &HashMap<String, Pos>, path: &str) -> Pos {
        let mut p = path;
        loop {
            if let Some(pos) = map.get(p).or_else(|| self.keys.get(p)) {
                return *pos;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => return Pos::default(),
            }
        }
    }
}

enum Frame {
    Map {
        path: String,
        key: Option<String>,
        first: bool,
    },
    Seq {
        path: String,
        index: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    keys: HashMap<String, Pos>,
    values: HashMap<String, Pos>,
}

fn pos_of(mark: Marker) -> Pos {
    // yaml-rust2 markers: 1-based line, 0-based column.
    Pos {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

impl Builder {
    /// The path of the value about to be read, or `None` when a mapping key is expected.
    fn value_path(&self) -> Option<String> {
        match self.stack.last() {
            None => Some(String::new()),
            Some(Frame::Map { key: None, .. }) => None,
            Some(Frame::Map {
                path, key: Some(k), ..
            }) => Some(if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            }),
            Some(Frame::Seq { path, index }) => Some(format!("{path}[{index}]")),
        }
    }

    /// Marks the current value as consumed in its parent.
    fn advance(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key, .. }) => *key = None,
            Some(Frame::Seq { index, .. }) => *index += 1,
            None => {}
        }
    }

    fn start_value(&mut self, mark: Marker) -> String {
        let path = self.value_path().unwrap_or_default();
        if let Some(Frame::Seq { .. }) = self.stack.last() {
            self.keys.insert(path.clone(), pos_of(mark));
        }
        self.values.insert(path.clone(), pos_of(mark));
        path
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, ..) => match self.value_path() {
                None => {
                    let (parent, first) = match self.stack.last() {
                        Some(Frame::Map { path, first, .. }) => (path.clone(), *first),
                        _ => (String::new(), false),
                    };
                    // A mapping inside a sequence starts, for the reader, at its first key.
                    if first && parent.ends_with(']') {
                        self.keys.insert(parent.clone(), pos_of(mark));
                    }
                    let full = if parent.is_empty() {
                        text.clone()
                    } else {
                        format!("{parent}.{text}")
                    };
                    self.keys.insert(full, pos_of(mark));
                    if let Some(Frame::Map { key, first, .. }) = self.stack.last_mut() {
                        *key = Some(text);
                        *first = false;
                    }
                }
                Some(_) => {
                    self.start_value(mark);
                    self.advance();
                }
            },
            Event::MappingStart(..) => {
                let path = self.start_value(mark);
                self.stack.push(Frame::Map {
                    path,
                    key: None,
                    first: true,
                });
            }
            Event::SequenceStart(..) => {
                let path = self.start_value(mark);
                self.stack.push(Frame::Seq { path, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.advance();
            }
            Event::Alias(_) => {
                self.start_value(mark);
                self.advance();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_nested_keys() {
        let text = "version: 1\nsources:\n  - name: orders\n    columns:\n      - name: id\n        type: strng\n";
        let p = Positions::index(text);
        assert_eq!(p.key("version"), Pos { line: 1, column: 1 });
        assert_eq!(p.key("sources[0].name"), Pos { line: 3, column: 5 });
        assert_eq!(
            p.key("sources[0].columns[0].type"),
            Pos { line: 6, column: 9 }
        );
        assert_eq!(
            p.value("sources[0].columns[0].type"),
            Pos {
                line: 6,
                column: 15
            }
        );
        assert_eq!(p.key("sources[0].columns[0]"), Pos { line: 5, column: 9 });
        // Unknown paths fall back to the nearest ancestor.
        assert_eq!(
            p.key("sources[0].columns[0].nope"),
            Pos { line: 5, column: 9 }
        );
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Small {
        region: String,
        amount: u32,
    }

    #[test]
    fn unknown_field_has_location_and_suggestion() {
        let err = parse::<Small>("region: x\nreigon: y\n", Path::new("p.yaml")).unwrap_err();
        let d = &err.diagnostics[0];
        assert_eq!((d.line, d.column), (2, 1), "{d}");
        assert!(d.message.contains("did you mean `region`?"), "{d}");
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Method {
        RobustZ,
        Iqr,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct WithEnum {
        method: Method,
    }

    #[test]
    fn unknown_variant_has_location_and_suggestion() {
        let err = parse::<WithEnum>("method: robust-z\n", Path::new("p.yaml")).unwrap_err();
        let d = &err.diagnostics[0];
        assert_eq!(d.line, 1, "{d}");
        assert!(
            d.message
                .contains("unknown variant `robust-z`, expected `robust_z` or `iqr`; did you mean `robust_z`?"),
            "{d}"
        );
    }

    #[test]
    fn type_error_has_location() {
        let err = parse::<Small>("region: x\namount: lots\n", Path::new("p.yaml")).unwrap_err();
        let d = &err.diagnostics[0];
        assert_eq!(d.line, 2, "{d}");
        assert!(d.message.contains("amount"), "{d}");
    }
}
