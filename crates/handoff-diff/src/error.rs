//! The crate's error type.

/// What can go wrong in this crate; everything else is total over its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// A manifest lists the same path twice, so the revision diff would be ambiguous.
    #[error("path {path:?} appears more than once in the {side} manifest")]
    DuplicatePath {
        /// The repeated path.
        path: String,
        /// `"old"` or `"new"`.
        side: &'static str,
    },
    /// An anchor's line range is empty or starts at line 0 (ranges are 1-based, inclusive).
    #[error("invalid anchor lines {start}..={end}: lines are 1-based and start <= end")]
    InvalidAnchor {
        /// First line as given.
        start: usize,
        /// Last line as given.
        end: usize,
    },
    /// A patch needs the bytes of a file the content source does not have.
    #[error("contents of {sha256} are not available")]
    MissingContent {
        /// The hash asked for.
        sha256: String,
    },
}
