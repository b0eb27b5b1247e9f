//! Full-text search over the store: FTS5 over `search_docs`, which triggers keep current;
//! the index itself is brought up to date once per write transaction ([`index_stale`]).

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

/// Re-indexes the documents changed since the last commit: drops the old entries of changed
/// and deleted ones, adds the current text of changed and new ones, and moves the high-water
/// mark. Set-based, so FTS5 is written once per transaction.
pub(crate) fn index_stale(conn: &Connection) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO search_index (search_index, rowid, text) SELECT 'delete', id, indexed_text FROM search_stale",
    )?
    .execute([])?;
    conn.prepare_cached(
        "INSERT INTO search_index (rowid, text)
         SELECT id, text FROM search_docs WHERE id > (SELECT up_to FROM search_indexed)
         UNION ALL
         SELECT d.id, d.text FROM search_stale s JOIN search_docs d ON d.id = s.id",
    )?
    .execute([])?;
    conn.prepare_cached("DELETE FROM search_stale")?.execute([])?;
    conn.prepare_cached(
        "UPDATE search_indexed SET up_to = COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'search_docs'), 0)",
    )?
    .execute([])?;
    Ok(())
}

/// Searches spec text, criteria, comments and file paths; best matches first.
pub(crate) fn search(conn: &Connection, input: &str, limit: usize) -> Result<Vec<SearchHit>> {
    let Some(query) = fts_query(input) else {
        return Ok(vec![]);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT d.kind, d.spec_id, s.title, d.ref_id, snippet(search_index, 0, '[', ']', '…', 12)
         FROM search_index JOIN search_docs d ON d.id = search_index.rowid JOIN specs s ON s.id = d.spec_id
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
