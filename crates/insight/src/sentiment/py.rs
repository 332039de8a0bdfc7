//! The few Python `str` and `float` behaviours VADER's scores depend on, reproduced
//! exactly: `str.split()` whitespace, `str.isupper()`, `str.strip(string.punctuation)`,
//! `str.lower()` and `round(x, n)`.

/// Python's `str.isspace()` for one character (what `str.split()` splits on): Unicode
/// White_Space plus the four ASCII separators U+001C..U+001F, which Rust's
/// `char::is_whitespace` leaves out.
#[inline]
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// [`is_space`] for an ASCII byte: TAB, LF, VT, FF, CR, U+001C..U+001F and space.
#[inline]
pub(crate) fn is_ascii_space(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | 0x1c..=b' ')
}

/// Python's `text.split()`: the non-empty runs between [`is_space`] characters.
pub(crate) fn split_whitespace(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_space).filter(|p| !p.is_empty())
}

/// Titlecase letters (category Lt; the same 31 in Unicode 14, Python 3.11's, and later).
fn is_titlecase(c: char) -> bool {
    matches!(c,
        '\u{1c5}' | '\u{1c8}' | '\u{1cb}' | '\u{1f2}'
        | '\u{1f88}'..='\u{1f8f}'
        | '\u{1f98}'..='\u{1f9f}'
        | '\u{1fa8}'..='\u{1faf}'
        | '\u{1fbc}' | '\u{1fcc}' | '\u{1ffc}')
}

/// Python's `str.isupper()`: at least one uppercase character, and no lowercase or
/// titlecase one.
pub(crate) fn is_upper(s: &str) -> bool {
    if s.is_ascii() {
        let (mut upper, mut lower) = (false, false);
        for b in s.bytes() {
            upper |= b.is_ascii_uppercase();
            lower |= b.is_ascii_lowercase();
        }
        return upper && !lower;
    }
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// Python's `token.strip(string.punctuation)`: ASCII punctuation off both ends.
#[inline]
pub(crate) fn strip_punctuation(s: &str) -> &str {
    // Bytes suffice: ASCII punctuation never occurs inside a multi-byte character, so
    // the cut points are character boundaries.
    let b = s.as_bytes();
    let start = b
        .iter()
        .position(|c| !c.is_ascii_punctuation())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_punctuation())
        .map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or("")
}

/// Appends Python's `s.lower()` to `out`. Rust's `str::to_lowercase` applies the same
/// full Unicode mappings, final sigma included; ASCII skips the allocation.
#[inline]
pub(crate) fn push_lower(out: &mut String, s: &str) {
    if s.is_ascii() {
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
    } else {
        out.push_str(&s.to_lowercase());
    }
}

/// Python's `round(x, digits)` for a float: the exact binary value rounded to `digits`
/// decimals, an exact tie to the even neighbour (`round(0.0625, 3) == 0.062`), then read
/// back as the nearest double — which is `k / 10^digits` correctly rounded.
pub(crate) fn round(x: f64, digits: i32) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits);
    let y = x * scale;
    if !y.is_finite() || y.abs() >= 4_503_599_627_370_496.0 {
        // 2^52 and beyond: no fractional part left to round.
        return x;
    }
    let floor = y.floor();
    // Round-to-nearest is monotonic, so the rounded product is on the same side of
    // floor + 0.5 as the exact one unless it *is* floor + 0.5; then the exact error of
    // the product (a fused multiply-add) says which side the exact value lies on.
    let frac = y - floor;
    let up = if frac > 0.5 {
        true
    } else if frac < 0.5 {
        false
    } else {
        let err = x.mul_add(scale, -y);
        if err != 0.0 {
            err > 0.0
        } else {
            floor % 2.0 != 0.0
        }
    };
    let k = if up { floor + 1.0 } else { floor };
    // Python keeps the sign of a value that rounds to zero: round(-0.00001, 4) == -0.0.
    let k = if k == 0.0 { 0.0f64.copysign(x) } else { k };
    k / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_matches_python() {
        // Values printed by CPython 3.11: exact binary ties go to even, near-ties by the
        // exact binary value.
        let cases = [
            (0.0625, 3, 0.062),
            (0.1875, 3, 0.188),
            (0.3125, 3, 0.312),
            (0.5625, 3, 0.562),
            (0.6875, 3, 0.688),
            (2.675, 3, 2.675),
            (0.0005, 3, 0.001),
            (0.0015, 3, 0.002),
            (0.8316, 4, 0.8316),
            (0.254_032_258_064_516_1, 3, 0.254),
            (-0.704_203_987_654, 4, -0.7042),
            (1.0, 3, 1.0),
            (0.0, 4, 0.0),
        ];
        for (x, d, want) in cases {
            assert_eq!(round(x, d), want, "round({x}, {d})");
        }
        let z = round(-0.00001, 4);
        assert!(z == 0.0 && z.is_sign_negative());
    }

    #[test]
    fn whitespace_is_pythons() {
        // Every code point for which CPython 3.11's str.isspace() is true.
        let python: Vec<u32> = [
            0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0,
        ]
        .into_iter()
        .chain([0x1680])
        .chain(0x2000..=0x200a)
        .chain([0x2028, 0x2029, 0x202f, 0x205f, 0x3000])
        .collect();
        let ours: Vec<u32> = (0..=0x10ffff)
            .filter_map(char::from_u32)
            .filter(|&c| is_space(c))
            .map(u32::from)
            .collect();
        assert_eq!(ours, python);
        for b in 0..128u8 {
            assert_eq!(is_ascii_space(b), is_space(char::from(b)), "{b}");
        }
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let word = format!("a{c}b");
            assert_eq!(split_whitespace(&word).count() == 2, is_space(c), "{c:?}");
        }
    }

    #[test]
    fn isupper_and_strip_are_pythons() {
        assert!(is_upper("VADER"));
        assert!(is_upper("SUX!"));
        assert!(is_upper("A1"));
        assert!(!is_upper("123"));
        assert!(!is_upper(":)"));
        assert!(!is_upper("VADEr"));
        assert!(is_upper("ÉTÉ"));
        assert!(!is_upper("ǅ"));
        assert_eq!(strip_punctuation("'hello!!'"), "hello");
        assert_eq!(strip_punctuation(":)"), "");
        let mut s = String::new();
        push_lower(&mut s, "ΟΔΟΣ");
        assert_eq!(s, "οδος");
    }
}
