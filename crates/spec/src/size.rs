//! Sizes as users write them on command lines (`--memory 512m`): one
//! parser for `ward sandbox` and `ward-oci update`, so that a size means
//! the same everywhere.

/// Bytes from `N`, `N[kmgtp]`, `N[kmgtp]b` or `N[kmgtp]ib` (binary units,
/// any case; N may have a fraction: `1.5g`), as Docker's `--memory` reads
/// them. Zero is a size; a negative or overflowing one is not.
pub fn parse_bytes(s: &str) -> Result<i64, String> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let t = t.strip_suffix('i').filter(|r| !r.is_empty()).unwrap_or(t);
    let (num, shift) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 10),
        Some('m') => (&t[..t.len() - 1], 20),
        Some('g') => (&t[..t.len() - 1], 30),
        Some('t') => (&t[..t.len() - 1], 40),
        Some('p') => (&t[..t.len() - 1], 50),
        _ => (t, 0),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a size (examples: 512m, 2g, 1048576)"))?;
    let bytes = n * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 0.0 && bytes < i64::MAX as f64) {
        return Err(format!("{s:?} is not a positive size"));
    }
    Ok(bytes as i64)
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn units_are_binary_and_case_free() {
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert_eq!(parse_bytes("20m"), Ok(20 << 20));
        assert_eq!(parse_bytes("1G"), Ok(1 << 30));
        assert_eq!(parse_bytes("512kb"), Ok(512 << 10));
        assert_eq!(parse_bytes("2MiB"), Ok(2 << 20));
        assert_eq!(parse_bytes("1t"), Ok(1 << 40));
        assert_eq!(parse_bytes("1p"), Ok(1 << 50));
        assert_eq!(parse_bytes("1.5k"), Ok(1536));
        assert_eq!(parse_bytes(" 7 "), Ok(7));
        assert_eq!(parse_bytes("0"), Ok(0));
    }

    #[test]
    fn what_is_not_a_size_says_so() {
        for bad in ["lots", "", "m", "1x", "k1", "1..5m"] {
            let e = parse_bytes(bad).expect_err(bad);
            assert!(e.contains("is not a size"), "{bad}: {e}");
        }
        for bad in ["-5", "-1k", "9000000p", "inf", "nan"] {
            let e = parse_bytes(bad).expect_err(bad);
            assert!(e.contains("not a positive size"), "{bad}: {e}");
        }
    }
}
