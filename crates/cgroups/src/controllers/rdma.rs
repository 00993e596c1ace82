//! The rdma controller: RDMA/IB handles and objects per device.
//!
//! Threat: a container exhausting a device's RDMA resources.

use std::collections::BTreeMap;
use std::path::Path;

use ward_spec::resources::LinuxRdma;

use super::{Dirs, F};
use crate::error::Result;
use crate::fsutil::write;

/// `rdma.max` line: `mlx5_1 hca_handle=3 hca_object=max`.
pub(crate) fn rdma_line(dev: &str, l: &LinuxRdma) -> String {
    let n = |v: Option<u32>| v.map_or("max".to_string(), |v| v.to_string());
    format!(
        "{dev} hca_handle={} hca_object={}",
        n(l.hca_handles),
        n(l.hca_objects)
    )
}

pub(crate) fn apply_v1(m: &dyn Dirs, rdma: &BTreeMap<String, LinuxRdma>) -> Result<()> {
    for (dev, lim) in rdma {
        let field = format!("{F}.rdma[{dev:?}]");
        let d = m.need("rdma", &field)?;
        write(&d, "rdma.max", &rdma_line(dev, lim), &field)?;
    }
    Ok(())
}

pub(crate) fn apply_v2(d: &Path, rdma: &BTreeMap<String, LinuxRdma>) -> Result<()> {
    for (dev, lim) in rdma {
        write(
            d,
            "rdma.max",
            &rdma_line(dev, lim),
            &format!("{F}.rdma[{dev:?}]"),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdma_lines() {
        let l = LinuxRdma {
            hca_handles: Some(3),
            hca_objects: None,
        };
        assert_eq!(
            rdma_line("mlx5_1", &l),
            "mlx5_1 hca_handle=3 hca_object=max"
        );
    }
}
