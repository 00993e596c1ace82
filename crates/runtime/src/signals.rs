//! Signal names and numbers as `kill` accepts them: KILL, SIGKILL, 9.

use crate::{msg, Result};

const NAMES: [(&str, i32); 31] = [
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("PWR", 30),
];

/// Parses a signal given by name (with or without SIG, any case) or number.
pub fn parse(s: &str) -> Result<i32> {
    if let Ok(n) = s.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
        return Err(msg(format!(
            "invalid signal number {n}: signals are 1 to 64"
        )));
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if name == "SYS" {
        return Ok(31);
    }
    if let Some(rest) = name.strip_prefix("RTMIN") {
        let off: i32 = if rest.is_empty() {
            0
        } else {
            rest.trim_start_matches('+')
                .parse()
                .map_err(|_| unknown(s))?
        };
        return if (0..=30).contains(&off) {
            Ok(34 + off)
        } else {
            Err(unknown(s))
        };
    }
    NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| unknown(s))
}

fn unknown(s: &str) -> crate::Error {
    msg(format!(
        "unknown signal {s:?}: use a name such as TERM, SIGKILL or a number"
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_and_numbers() {
        assert_eq!(super::parse("KILL").ok(), Some(9));
        assert_eq!(super::parse("sigterm").ok(), Some(15));
        assert_eq!(super::parse("9").ok(), Some(9));
        assert_eq!(super::parse("SIGRTMIN+2").ok(), Some(36));
        assert!(super::parse("SIGFOO").is_err());
        assert!(super::parse("0").is_err());
        assert!(super::parse("99").is_err());
    }
}
