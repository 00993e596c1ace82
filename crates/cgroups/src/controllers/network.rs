//! The v1 net_cls and net_prio controllers: a traffic class id and
//! per-interface priorities. cgroup v2 has neither.

use ward_spec::resources::LinuxNetwork;

use super::{Dirs, F};
use crate::error::{Error, Result};
use crate::fsutil::write;

pub(crate) fn apply_v1(m: &dyn Dirs, net: &LinuxNetwork) -> Result<()> {
    if let Some(id) = net.class_id {
        let d = m.need("net_cls", &format!("{F}.network.classID"))?;
        write(
            &d,
            "net_cls.classid",
            &id.to_string(),
            &format!("{F}.network.classID"),
        )?;
    }
    for (i, p) in net.priorities.iter().enumerate() {
        let field = format!("{F}.network.priorities[{i}]");
        let d = m.need("net_prio", &field)?;
        write(
            &d,
            "net_prio.ifpriomap",
            &format!("{} {}", p.name, p.priority),
            &field,
        )?;
    }
    Ok(())
}

/// v2 cannot express these at all: an error, not a silent drop.
pub(crate) fn unsupported_v2(net: &LinuxNetwork) -> Result<()> {
    if net.class_id.is_some() || !net.priorities.is_empty() {
        return Err(Error::resource(
            format!("{F}.network"),
            "net_cls/net_prio do not exist on cgroup v2: remove linux.resources.network (use eBPF or tc for traffic classes)",
        ));
    }
    Ok(())
}
