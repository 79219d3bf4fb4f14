//! Validation of person names typed by users.
//!
//! Names are labels only (files are keyed by numeric id), but they end up in
//! terminals, JSON and window titles, so we reject what would confuse any of
//! those rather than escaping it everywhere.

use thiserror::Error;

/// Longest accepted name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Why a name was refused. Each message says what to type instead.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum NameError {
    #[error("the name is empty; type the person's name, e.g. \"Ada Lovelace\"")]
    Empty,
    #[error("the name {0:?} contains '{1}', which a name may not contain; leave it out")]
    ForbiddenChar(String, char),
    #[error("the name {0:?} contains '..', which a name may not contain; leave it out")]
    DoubleDot(String),
    #[error("the name {0:?} contains a control character; type it without tabs or line breaks")]
    ControlChar(String),
    #[error("\"{0}\" is not a valid name; use the person's name")]
    Reserved(String),
    #[error("the name is {0} characters long; use at most {MAX_NAME_CHARS}")]
    TooLong(usize),
}

/// Checks a name and returns it trimmed of surrounding white space.
pub fn validate_name(raw: &str) -> Result<String, NameError> {
    if let Some(_c) = raw.chars().find(|c| c.is_control()) {
        return Err(NameError::ControlChar(raw.to_owned()));
    }
    let name = raw.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if let Some(c) = name.chars().find(|c| matches!(c, '/' | '\\')) {
        return Err(NameError::ForbiddenChar(name.to_owned(), c));
    }
    if name.chars().all(|c| c == '.') {
        return Err(NameError::Reserved(name.to_owned()));
    }
    if name.contains("..") {
        return Err(NameError::DoubleDot(name.to_owned()));
    }
    let len = name.chars().count();
    if len > MAX_NAME_CHARS {
        return Err(NameError::TooLong(len));
    }
    Ok(name.to_owned())
}

/// Whether two names refer to the same person: case and surrounding spaces
/// do not count, so "alice" finds "Alice".
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names_and_trims() {
        assert_eq!(validate_name("  Ada Lovelace ").as_deref(), Ok("Ada Lovelace"));
        assert_eq!(validate_name("Zoë O'Brien-Núñez").as_deref(), Ok("Zoë O'Brien-Núñez"));
        assert_eq!(validate_name("s1").as_deref(), Ok("s1"));
        assert_eq!(validate_name("J.R.R.").as_deref(), Ok("J.R.R."));
    }

    #[test]
    fn rejects_odd_names() {
        assert_eq!(validate_name(""), Err(NameError::Empty));
        assert_eq!(validate_name("   "), Err(NameError::Empty));
        assert!(matches!(validate_name("a/b"), Err(NameError::ForbiddenChar(_, '/'))));
        assert!(matches!(validate_name("a\\b"), Err(NameError::ForbiddenChar(_, '\\'))));
        assert!(matches!(validate_name(".."), Err(NameError::Reserved(_))));
        assert!(matches!(validate_name("."), Err(NameError::Reserved(_))));
        assert!(matches!(validate_name("a..b"), Err(NameError::DoubleDot(_))));
        assert!(matches!(validate_name("a\nb"), Err(NameError::ControlChar(_))));
        assert!(matches!(validate_name("a\u{7}"), Err(NameError::ControlChar(_))));
        assert!(matches!(validate_name(&"x".repeat(65)), Err(NameError::TooLong(65))));
    }

    #[test]
    fn same_name_ignores_case() {
        assert!(same_name("Alice", " alice"));
        assert!(!same_name("Alice", "Alicia"));
    }
}
