//! Two readings of a JSON body's text that serde cannot be told to make: a whole number is an
//! integer however it is spelled, and a `kind` is a name.

/// The body with every whole number written with a fraction or an exponent (`10.0`, `1e3`,
/// `2500e-2`) rewritten as the integer it is, digit for digit (read as a float first, a large
/// one would come back off by a fraction); `None` when there is none.
pub fn whole_numbers_as_integers(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b == b'"' {
            let end = string_end(text, i)?;
            out.extend_from_slice(&text[i..end]);
            i = end;
        } else if b == b'-' || b.is_ascii_digit() {
            let end = number_end(text, i);
            match integer_text(&text[i..end]) {
                Some(integer) => {
                    out.extend_from_slice(&integer);
                    changed = true;
                }
                None => out.extend_from_slice(&text[i..end]),
            }
            i = end;
        } else {
            out.push(b);
            i += 1;
        }
    }
    changed.then_some(out)
}

/// Whether every value of a `kind` key is a string. serde reads an internally tagged enum's
/// tag as a variant's position too (`"kind": 0`), which would make the order of variants part
/// of the wire format; it names kinds only.
pub fn kinds_are_names(text: &[u8]) -> bool {
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'"' {
            i += 1;
            continue;
        }
        // An unterminated string is left for the JSON reader to refuse.
        let Some(end) = string_end(text, i) else { return true };
        let is_kind = &text[i + 1..end - 1] == b"kind";
        i = end;
        if is_kind {
            let colon = skip_space(text, end);
            if text.get(colon) == Some(&b':') {
                let value = skip_space(text, colon + 1);
                if text.get(value).is_some_and(|b| *b != b'"') {
                    return false;
                }
            }
        }
    }
    true
}

/// The index just past the string that opens at `start`, or `None` when it does not close.
fn string_end(text: &[u8], start: usize) -> Option<usize> {
    let mut j = start + 1;
    while j < text.len() {
        match text[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

fn number_end(text: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    while j < text.len() && matches!(text[j], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
        j += 1;
    }
    j
}

fn skip_space(text: &[u8], mut i: usize) -> usize {
    while i < text.len() && matches!(text[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The integer a number token with a fraction or an exponent is, when it is a whole one that
/// fits 64 bits' worth of digits; `None` for plain integers, fractions and anything else.
fn integer_text(token: &[u8]) -> Option<Vec<u8>> {
    let (negative, unsigned) = match token.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, token),
    };
    let (mantissa, exponent) = match unsigned.iter().position(|b| matches!(b, b'e' | b'E')) {
        Some(at) => (&unsigned[..at], Some(std::str::from_utf8(&unsigned[at + 1..]).ok()?.parse::<i64>().ok()?)),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.iter().position(|b| *b == b'.') {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, &[][..]),
    };
    let digits_only = |d: &[u8]| d.iter().all(u8::is_ascii_digit);
    if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) || (fraction.is_empty() && exponent.is_none()) {
        return None;
    }
    let mut digits: Vec<u8> = whole.iter().chain(fraction).copied().skip_while(|d| *d == b'0').collect();
    let mut shift = exponent.unwrap_or(0).checked_sub(i64::try_from(fraction.len()).ok()?)?;
    while shift < 0 && digits.last() == Some(&b'0') {
        digits.pop();
        shift += 1;
    }
    if digits.is_empty() {
        return Some(b"0".to_vec());
    }
    if shift < 0 || digits.len() as i64 + shift > 20 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() + shift as usize + 1);
    if negative {
        out.push(b'-');
    }
    out.extend_from_slice(&digits);
    out.resize(out.len() + shift as usize, b'0');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(text: &str) -> String {
        whole_numbers_as_integers(text.as_bytes()).map(|t| String::from_utf8(t).expect("utf8")).unwrap_or_else(|| text.into())
    }

    #[test]
    fn whole_numbers_become_integers_digit_for_digit_and_nothing_else_changes() {
        assert_eq!(
            rewritten(r#"{"a": 10.0, "b": 1e3, "c": 2500e-2, "d": -4.50e1}"#),
            r#"{"a": 10, "b": 1000, "c": 25, "d": -45}"#
        );
        assert_eq!(rewritten("[3621867532071194.0, 0.0, -0e5, 0.000]"), "[3621867532071194, 0, 0, 0]");
        assert_eq!(rewritten(r#"[1.5, 2e-1, 7, "8.0", "a\"9.0"]"#), r#"[1.5, 2e-1, 7, "8.0", "a\"9.0"]"#);
        assert_eq!(rewritten("[1e400, 1e19, 12345678901234567890.0]"), "[1e400, 10000000000000000000, 12345678901234567890]");
        assert!(whole_numbers_as_integers(b"[1, 2, \"x\"]").is_none());
    }

    #[test]
    fn a_kind_must_be_a_string_wherever_it_is_a_key() {
        assert!(kinds_are_names(br#"{"kind": "spec.create", "a": {"kind" : "spec"}}"#));
        assert!(kinds_are_names(br#"{"body": "\"kind\": 0", "kinds": 1}"#));
        assert!(!kinds_are_names(br#"{"mutation": {"kind": 0}}"#));
        assert!(!kinds_are_names(br#"{"anchor": {"kind"	:{"x": 1}}}"#));
        assert!(kinds_are_names(br#"{"kind"#));
    }
}
