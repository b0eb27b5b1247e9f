//! Full-text search over the store (FTS5, kept current by triggers).

use rusqlite::Connection;

use crate::error::Result;
use crate::store::read;
use crate::views::SearchHit;

/// Turns what a person typed into an FTS5 query that cannot be a syntax error: each word is
/// quoted (so `AND`, `-`, `:` and quotes are plain text) and matched as a prefix.
pub(crate) fn fts_query(input: &str) -> Option<String> {
    let terms: Vec<String> = input
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '_'))
        .filter(|w| !w.is_empty())
        .take(32)
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Searches spec text, criteria, comments and file paths; best matches first.
pub(crate) fn search(conn: &Connection, input: &str, limit: usize) -> Result<Vec<SearchHit>> {
    let Some(query) = fts_query(input) else {
        return Ok(vec![]);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT i.kind, i.spec_id, s.title, i.ref_id, snippet(search_index, 3, '[', ']', '…', 12)
         FROM search_index i JOIN specs s ON s.id = i.spec_id
         WHERE search_index MATCH ?1 ORDER BY rank LIMIT ?2",
    )?;
    let rows = stmt.query_map(rusqlite::params![query, limit as i64], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    rows.map(|row| {
        let (kind, spec_id, spec_title, ref_id, snippet) = row?;
        Ok(SearchHit { kind, spec_id: read::parse("spec id", &spec_id)?, spec_title, ref_id, snippet })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn typed_queries_become_safe_prefix_queries() {
        assert_eq!(fts_query("csv import").as_deref(), Some("\"csv\"* \"import\"*"));
        assert_eq!(fts_query("AND OR \"").as_deref(), Some("\"AND\"* \"OR\"*"));
        assert_eq!(fts_query("  -- "), None);
        assert_eq!(fts_query("src/main.rs").as_deref(), Some("\"src/main.rs\"*"));
    }
}
