//! The pids controller: the number of tasks.
//!
//! Threat: fork bombs.

use std::path::Path;

use super::{Dirs, F};
use crate::convert;
use crate::error::Result;
use crate::fsutil::{read_u64_or_zero as u, write};
use crate::stats::Pids;

/// `pids.max` from `linux.resources.pids.limit` (negative: no limit).
pub(crate) fn apply_v1(m: &dyn Dirs, limit: i64) -> Result<()> {
    let d = m.need("pids", &format!("{F}.pids.limit"))?;
    let v = match limit {
        n if n < 0 => "max".to_string(),
        n => n.to_string(),
    };
    write(&d, "pids.max", &v, &format!("{F}.pids.limit"))
}

pub(crate) fn apply_v2(d: &Path, limit: i64) -> Result<()> {
    let v = convert::limit_to_v2(limit, true).unwrap_or_else(|| "max".into());
    write(d, "pids.max", &v, &format!("{F}.pids.limit"))
}

/// "max"/unlimited limits read as 0 ("no limit"), like runc's pids.limit.
fn limit_or_zero(v: u64) -> u64 {
    if v == u64::MAX {
        0
    } else {
        v
    }
}

/// Task count and limit of the pids directory `d` (v1 or v2: same files).
pub(crate) fn stats(d: &Path) -> Result<Pids> {
    Ok(Pids {
        current: u(d, "pids.current")?,
        limit: limit_or_zero(u(d, "pids.max")?),
    })
}
