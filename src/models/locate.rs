//! Points a DuckDB error at the model file: DuckDB reports `LINE n:` with an excerpt of
//! the rendered SQL and a caret under the offending text; this maps that position back
//! to the line and column of the Tera template (rendering can add or drop lines with
//! `{% if %}` and `{% for %}`, and `{{ ref() }}` changes column widths).

/// A DuckDB error placed in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// 1-based template line; 0 when unknown.
    pub line: usize,
    /// 1-based template column; 0 when unknown.
    pub column: usize,
    /// DuckDB's message on one line, without the excerpt and long candidate lists.
    pub message: String,
}

/// Places `error` (DuckDB's message for `query`, whose first `prefix_len` bytes are a
/// statement prefix put before the rendered template on its first line) in `template`.
pub fn locate(error: &str, query: &str, prefix_len: usize, template: &str) -> Located {
    let message = short_message(error);
    let Some((qline, qcol, width)) = caret(error, query) else {
        // No excerpt: look for the first quoted name of the message in the template.
        return match quoted_name(error).and_then(|n| find_word(template, &n)) {
            Some((line, column)) => Located {
                line,
                column,
                message,
            },
            None => Located {
                line: 0,
                column: 0,
                message,
            },
        };
    };
    let rendered_lines: Vec<&str> = query.lines().collect();
    let rline = rendered_lines.get(qline - 1).copied().unwrap_or("");
    let col0 = if qline == 1 {
        qcol.saturating_sub(prefix_len)
    } else {
        qcol
    };
    let rline = if qline == 1 {
        rline.get(prefix_len.min(rline.len())..).unwrap_or("")
    } else {
        rline
    };
    let token: String = rline
        .get(col0..)
        .unwrap_or("")
        .chars()
        .take(width)
        .collect();
    placed(message, template, query, (qline, rline, col0), &token)
}

/// Places `message`, about byte `offset` of `query` (the position DuckDB's parser gives,
/// e.g. in `json_serialize_sql`), in `template`.
pub fn locate_offset(message: String, offset: usize, query: &str, template: &str) -> Located {
    let mut offset = offset.min(query.len());
    while !query.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &query[..offset];
    let qline = before.matches('\n').count() + 1;
    let col0 = offset - before.rfind('\n').map_or(0, |i| i + 1);
    let rline = query.lines().nth(qline - 1).unwrap_or("");
    let token: String = rline
        .get(col0..)
        .unwrap_or("")
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    placed(message, template, query, (qline, rline, col0), &token)
}

/// `message` at the template position of rendered `(line, its text, column)` of `query`,
/// whose offending text is `token`.
fn placed(
    message: String,
    template: &str,
    query: &str,
    (qline, rline, col0): (usize, &str, usize),
    token: &str,
) -> Located {
    let (line, column) =
        template_position(template, query.lines().count(), qline, rline, col0, token);
    Located {
        line,
        column,
        message,
    }
}

/// The message without DuckDB's `LINE n:` excerpt and without tab-indented candidate
/// lists, on one line.
pub fn short_message(error: &str) -> String {
    let head = match error.find("\nLINE ") {
        Some(i) => &error[..i],
        None => error,
    };
    head.lines()
        .filter(|l| !l.starts_with('\t') && !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Rendered (1-based line, 0-based byte column, caret width) from the excerpt.
fn caret(error: &str, query: &str) -> Option<(usize, usize, usize)> {
    let lines: Vec<&str> = error.lines().collect();
    let i = lines.iter().position(|l| l.starts_with("LINE "))?;
    let excerpt_line = lines[i];
    let colon = excerpt_line.find(": ")?;
    let n: usize = excerpt_line[5..colon].trim().parse().ok()?;
    let prefix = colon + 2;
    let carets = lines.get(i + 1)?;
    let at = carets.find('^')?;
    let width = carets[at..].chars().take_while(|c| *c == '^').count();
    let mut snippet = &excerpt_line[prefix..];
    let mut in_snippet = at.checked_sub(prefix)?;
    if let Some(s) = snippet.strip_prefix("...") {
        snippet = s;
        in_snippet = in_snippet.saturating_sub(3);
    }
    let snippet = snippet.strip_suffix("...").unwrap_or(snippet);
    let qline = query.lines().nth(n - 1)?;
    // An excerpt that is not on its line is not to be trusted (DuckDB sometimes points
    // into another part of the statement): the caller falls back to the quoted name.
    let offset = qline.find(snippet)?;
    Some((n, offset + in_snippet, width))
}

/// The template position of rendered line `rline_no` (its text `rline`, column `col0`),
/// whose offending text is `token`.
fn template_position(
    template: &str,
    rendered_count: usize,
    rline_no: usize,
    rline: &str,
    col0: usize,
    token: &str,
) -> (usize, usize) {
    let tlines: Vec<&str> = template.lines().collect();
    let one_to_one = tlines.len() == rendered_count
        && !template.contains("{%")
        && !template.contains("{#")
        && tlines
            .iter()
            .all(|l| l.matches("{{").count() == l.matches("}}").count());
    let line = if one_to_one {
        rline_no
    } else {
        // The template line whose literal text matches the rendered line, nearest to it.
        tlines
            .iter()
            .enumerate()
            .filter(|(_, t)| literal_match(t, rline))
            .min_by_key(|(i, _)| (i + 1).abs_diff(rline_no))
            .map(|(i, _)| i + 1)
            .unwrap_or(rline_no.min(tlines.len()))
    };
    let tline = tlines.get(line.wrapping_sub(1)).copied().unwrap_or("");
    let column = if !token.trim().is_empty() {
        tline
            .match_indices(token)
            .map(|(i, _)| i)
            .min_by_key(|i| i.abs_diff(col0))
            .unwrap_or(col0.min(tline.len()))
    } else {
        col0.min(tline.len())
    };
    (line, column + 1)
}

/// True when the literal pieces of template line `t` (outside `{{ }}`, `{% %}`) appear
/// in order in `r`, and there is at least one non-blank piece.
fn literal_match(t: &str, r: &str) -> bool {
    let mut pieces = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find(['{']) {
        let kind = rest[open..].chars().nth(1);
        let close = match kind {
            Some('{') => "}}",
            Some('%') => "%}",
            Some('#') => "#}",
            _ => {
                pieces.push(&rest[..open + 1]);
                rest = &rest[open + 1..];
                continue;
            }
        };
        pieces.push(&rest[..open]);
        match rest[open..].find(close) {
            Some(c) => rest = &rest[open + c + 2..],
            None => {
                rest = "";
                break;
            }
        }
    }
    pieces.push(rest);
    let pieces: Vec<&str> = pieces
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if pieces.is_empty() {
        return false;
    }
    let mut at = 0;
    for p in pieces {
        match r[at..].find(p) {
            Some(i) => at += i + p.len(),
            None => return false,
        }
    }
    true
}

/// The name a DuckDB message is about: the first `"quoted"` one, or the column of
/// `Table "k" does not have a column named "x"` (the alias `k` is all over the query).
fn quoted_name(error: &str) -> Option<String> {
    let from = error
        .find("does not have a column named \"")
        .map_or(0, |i| i + "does not have a column named ".len());
    let error = &error[from..];
    let start = error.find('"')? + 1;
    let len = error[start..].find('"')?;
    let name = &error[start..start + len];
    (!name.is_empty()).then(|| name.to_string())
}

/// First whole-word occurrence of `word` in `text`, 1-based line and column.
fn find_word(text: &str, word: &str) -> Option<(usize, usize)> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    // Comment lines (a model's `-- description:` header names its columns) are skipped.
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("--"))
    {
        for (j, _) in line.match_indices(word) {
            let before = line[..j].chars().next_back().is_none_or(|c| !is_word(c));
            let after = line[j + word.len()..]
                .chars()
                .next()
                .is_none_or(|c| !is_word(c));
            if before && after {
                return Some((i + 1, j + 1));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "CREATE VIEW \"main\".\"m\" AS ";

    fn q(rendered: &str) -> String {
        format!("{PREFIX}{rendered}")
    }

    #[test]
    fn same_lines_with_wider_refs() {
        let template = "-- description: x\nSELECT a, {{ ref(\"t\") }}.b,\n  no_such_column\nFROM {{ ref(\"t\") }}";
        let rendered =
            "-- description: x\nSELECT a, \"main\".\"t\".b,\n  no_such_column\nFROM \"main\".\"t\"";
        let err = "Binder Error: Referenced column \"no_such_column\" not found in FROM clause!\nCandidate bindings: \"a\"\n\nLINE 3:   no_such_column\n          ^^^^^^^^^^^^^^";
        let l = locate(err, &q(rendered), PREFIX.len(), template);
        assert_eq!((l.line, l.column), (3, 3));
        assert_eq!(
            l.message,
            "Binder Error: Referenced column \"no_such_column\" not found in FROM clause! Candidate bindings: \"a\""
        );
    }

    #[test]
    fn an_excerpt_that_is_not_on_its_line_falls_back_to_the_name() {
        // DuckDB 2.0 sometimes cites another part of the statement (here line 3 for an
        // error on line 2): the quoted column name places it instead.
        let query = "-- unitz is a typo\nSELECT\n  sum(unitz) AS units,\n  sum(b) AS b\nFROM t";
        let err = "Binder Error: Referenced column \"unitz\" not found in FROM clause!\n\nLINE 4: ...sum(net) AS net\n                   ^^^^^";
        let l = locate(err, query, 0, query);
        assert_eq!((l.line, l.column), (3, 7));
    }

    #[test]
    fn first_line_and_truncated_excerpt() {
        let template = "SELECT a FROM nope";
        let err = format!(
            "Catalog Error: Table with name nope does not exist!\nDid you mean \"orders\"?\n\n\
             LINE 1: {PREFIX}SELECT a FROM nope\n{}^^^^",
            " ".repeat(8 + PREFIX.len() + 14)
        );
        let l = locate(&err, &q(template), PREFIX.len(), template);
        assert_eq!((l.line, l.column), (1, 15));
        let long = format!("SELECT {}zzz FROM t", "a, ".repeat(40));
        let err = format!(
            "Binder Error: Referenced column \"zzz\" not found\n\nLINE 1: ..., a, a, a, a, zzz FROM t\n{}^^^",
            " ".repeat(25)
        );
        let l = locate(&err, &q(&long), PREFIX.len(), &long);
        assert_eq!((l.line, l.column), (1, 128));
    }

    #[test]
    fn blocks_shift_lines() {
        let template = "SELECT\n{% for c in [1, 2] %}  x{{ c }},\n{% endfor %}  bad_col\nFROM t";
        let rendered = "SELECT\n  x1,\n  x2,\n  bad_col\nFROM t";
        let err = "Binder Error: Referenced column \"bad_col\" not found\n\nLINE 4:   bad_col\n          ^^^^^^^";
        let l = locate(err, &q(rendered), PREFIX.len(), template);
        assert_eq!((l.line, l.column), (3, 15));
    }

    #[test]
    fn no_excerpt_falls_back_to_the_quoted_name() {
        let template = "SELECT\n  amount_usd\nFROM t";
        let l = locate(
            "Binder Error: column \"amount_usd\" must appear in the GROUP BY clause",
            &q(template),
            PREFIX.len(),
            template,
        );
        assert_eq!((l.line, l.column), (2, 3));
    }

    #[test]
    fn a_missing_column_of_an_alias_is_placed_at_the_column() {
        let template = "SELECT\n  sum(k.a),\n  sum(k.unitz)\nFROM t AS k";
        let l = locate(
            "Binder Error: Table \"k\" does not have a column named \"unitz\"",
            &q(template),
            PREFIX.len(),
            template,
        );
        assert_eq!((l.line, l.column), (3, 9));
    }
}
