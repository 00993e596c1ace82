//! The hugetlb controller: huge page limits per page size (and their
//! reservation limits where the kernel has them); usage statistics.
//!
//! Threat: a container exhausting the host's huge page pool.

use std::collections::BTreeMap;
use std::path::Path;

use ward_spec::resources::LinuxHugepageLimit;

use super::{Dirs, F};
use crate::convert;
use crate::error::Result;
use crate::fsutil::{self, keyed_value, read_opt, read_u64_or_zero as u, write};
use crate::stats::Hugetlb;

pub(crate) fn apply_v1(m: &dyn Dirs, limits: &[LinuxHugepageLimit]) -> Result<()> {
    for (i, h) in limits.iter().enumerate() {
        let field = format!("{F}.hugepageLimits[{i}]");
        let d = m.need("hugetlb", &field)?;
        convert::check_page_size(&field, &h.page_size)?;
        let file = format!("hugetlb.{}.limit_in_bytes", h.page_size);
        let v = h.limit.to_string();
        // Reservation limits where the kernel has them (runtime-spec).
        let rsvd = format!("hugetlb.{}.rsvd.limit_in_bytes", h.page_size);
        if fsutil::exists(&d, &rsvd) {
            write(&d, &rsvd, &v, &field)?;
        }
        write(&d, &file, &v, &field)?;
    }
    Ok(())
}

pub(crate) fn apply_v2(d: &Path, limits: &[LinuxHugepageLimit]) -> Result<()> {
    for (i, h) in limits.iter().enumerate() {
        let field = format!("{F}.hugepageLimits[{i}]");
        convert::check_page_size(&field, &h.page_size)?;
        let file = format!("hugetlb.{}.max", h.page_size);
        let v = h.limit.to_string();
        let rsvd = format!("hugetlb.{}.rsvd.max", h.page_size);
        if fsutil::exists(d, &rsvd) {
            write(d, &rsvd, &v, &field)?;
        }
        write(d, &file, &v, &field)?;
    }
    Ok(())
}

/// v1 statistics of the hugetlb directory `d`, per page size.
pub(crate) fn stats_v1(d: &Path) -> Result<BTreeMap<String, Hugetlb>> {
    let mut out = BTreeMap::new();
    for size in convert::hugepage_sizes() {
        let p = format!("hugetlb.{size}");
        out.insert(
            size,
            Hugetlb {
                usage: u(d, &format!("{p}.usage_in_bytes"))?,
                max: u(d, &format!("{p}.max_usage_in_bytes"))?,
                failcnt: u(d, &format!("{p}.failcnt"))?,
            },
        );
    }
    Ok(out)
}

/// v2 statistics, per page size the directory offers.
pub(crate) fn stats_v2(d: &Path) -> Result<BTreeMap<String, Hugetlb>> {
    let mut out = BTreeMap::new();
    for size in convert::hugepage_sizes() {
        let p = format!("hugetlb.{size}");
        if !fsutil::exists(d, &format!("{p}.current")) {
            continue;
        }
        let events = read_opt(d, &format!("{p}.events"))?.unwrap_or_default();
        out.insert(
            size,
            Hugetlb {
                usage: u(d, &format!("{p}.current"))?,
                max: u(d, &format!("{p}.max"))?,
                failcnt: keyed_value(&events, "max").unwrap_or(0),
            },
        );
    }
    Ok(out)
}
