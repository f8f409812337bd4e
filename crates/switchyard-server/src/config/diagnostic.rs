//! Problems found in a config file, each located as `file:line:col: path: message`.
//!
//! Loading never stops at the first problem: every phase pushes into one
//! [`Diagnostics`] collector, and [`ConfigErrors`] hands them all back, sorted by
//! position. Messages follow the house style (lowercase, identifiers in backticks) and
//! never contain a secret: values are quoted only where they cannot be one.

use std::fmt;
use std::ops::Range;

/// One problem in the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the caller named it, e.g. `switchyard.toml`.
    pub file: String,
    /// 1-based line of the offending key or value; 0 when the problem has no position
    /// (the file could not be read).
    pub line: usize,
    /// 1-based column, counted in characters; 0 when `line` is 0.
    pub col: usize,
    /// Where in the document, e.g. `models.gpt-4o.deployments[1]`; empty for the whole
    /// file (a syntax error, an unreadable file).
    pub path: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: path: message`, leaving out the position when `line` is 0 and
    /// the path when it is empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.col)?;
        }
        f.write_str(": ")?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in a config file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors {
    pub errors: Vec<Diagnostic>,
}

impl fmt::Display for ConfigErrors {
    /// One diagnostic per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.errors.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl ConfigErrors {
    /// A single problem that concerns the whole file, such as failing to read it.
    pub(crate) fn whole_file(file: &str, message: String) -> ConfigErrors {
        ConfigErrors {
            errors: vec![Diagnostic {
                file: file.to_owned(),
                line: 0,
                col: 0,
                path: String::new(),
                message,
            }],
        }
    }
}

// === impl Diagnostics ===

/// Collects diagnostics for one document, turning byte offsets into lines and columns.
pub(crate) struct Diagnostics<'a> {
    file: &'a str,
    text: &'a str,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
    list: Vec<Diagnostic>,
}

impl<'a> Diagnostics<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(index, _)| index + 1))
            .collect();
        Diagnostics {
            file,
            text,
            line_starts,
            list: Vec::new(),
        }
    }

    /// Records a problem at `span` (byte offsets into the document).
    pub(crate) fn error(&mut self, span: Range<usize>, path: &str, message: impl Into<String>) {
        let (line, col) = self.position(span.start);
        let diagnostic = Diagnostic {
            file: self.file.to_owned(),
            line,
            col,
            path: path.to_owned(),
            message: message.into(),
        };
        if !self.list.contains(&diagnostic) {
            self.list.push(diagnostic);
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.list.len()
    }

    /// `value` if nothing went wrong, else every diagnostic in file order.
    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, ConfigErrors> {
        if self.list.is_empty() {
            return Ok(value);
        }
        // Stable: problems at one position keep the order they were found in.
        self.list
            .sort_by_key(|diagnostic| (diagnostic.line, diagnostic.col));
        Err(ConfigErrors { errors: self.list })
    }

    /// 1-based line and character column of a byte offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line_index = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1);
        let line_start = self.line_starts.get(line_index).copied().unwrap_or(0);
        let col = self
            .text
            .get(line_start..offset)
            .map_or(offset - line_start, |prefix| prefix.chars().count());
        (line_index + 1, col + 1)
    }
}

// === key paths ===

/// `parent.key`, quoting `key` as TOML would when it is not a bare key
/// (`models."gpt-4.1"`), so the path can be pasted back into the file.
pub(crate) fn join(parent: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[index]`.
pub(crate) fn index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "a = 1\n\n  é = \"x\"\n";
        let diagnostics = Diagnostics::new("f.toml", text);
        assert_eq!(diagnostics.position(0), (1, 1));
        assert_eq!(diagnostics.position(4), (1, 5));
        assert_eq!(diagnostics.position(6), (2, 1));
        assert_eq!(diagnostics.position(7), (3, 1));
        // `=` after a two-byte `é`.
        assert_eq!(diagnostics.position(7 + 2 + 2 + 1), (3, 5));
        assert_eq!(diagnostics.position(text.len()), (4, 1));
    }

    #[test]
    fn paths_quote_keys_that_are_not_bare() {
        assert_eq!(join("", "models"), "models");
        assert_eq!(join("models", "gpt-4o"), "models.gpt-4o");
        assert_eq!(join("models", "gpt-4.1"), "models.\"gpt-4.1\"");
        assert_eq!(join("models", ""), "models.\"\"");
        assert_eq!(index("models.a.deployments", 2), "models.a.deployments[2]");
    }

    #[test]
    fn display_leaves_out_missing_parts() {
        let mut diagnostic = Diagnostic {
            file: "s.toml".into(),
            line: 3,
            col: 1,
            path: "server".into(),
            message: "boom".into(),
        };
        assert_eq!(diagnostic.to_string(), "s.toml:3:1: server: boom");
        diagnostic.path.clear();
        assert_eq!(diagnostic.to_string(), "s.toml:3:1: boom");
        diagnostic.line = 0;
        assert_eq!(diagnostic.to_string(), "s.toml: boom");
    }
}
