//! bpf(2) for cgroup v2 device filters (BPF_PROG_TYPE_CGROUP_DEVICE).
//!
//! Threat: on cgroup v2 there is no `devices.allow` file; without an attached
//! device program a container may open or mknod any device node it can reach
//! (raw disks, /dev/mem, /dev/kmsg). These wrappers load such a program,
//! attach it to a cgroup directory with BPF_F_ALLOW_MULTI, list the programs
//! already attached and detach stale ones. The program itself is generated
//! (and unit-tested) by ward-cgroups; this module only moves bytes to the
//! kernel and checks its answer.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

/// BPF_PROG_TYPE_CGROUP_DEVICE.
pub const PROG_TYPE_CGROUP_DEVICE: u32 = 15;
/// BPF_CGROUP_DEVICE attach type.
pub const ATTACH_CGROUP_DEVICE: u32 = 6;
/// BPF_F_ALLOW_MULTI: several programs per cgroup, all must allow.
pub const F_ALLOW_MULTI: u32 = 1 << 1;

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_PROG_QUERY: libc::c_long = 16;

/// One eBPF instruction (`struct bpf_insn`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    /// dst_reg:4 and src_reg:4 bit fields, in the host's bit-field order.
    regs: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    /// Builds an instruction from its parts; registers are 0..=10.
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        #[cfg(target_endian = "little")]
        let regs = (dst & 0xf) | ((src & 0xf) << 4);
        #[cfg(target_endian = "big")]
        let regs = ((dst & 0xf) << 4) | (src & 0xf);
        Insn {
            code,
            regs,
            off,
            imm,
        }
    }

    /// Destination register.
    pub const fn dst(&self) -> u8 {
        #[cfg(target_endian = "little")]
        let r = self.regs & 0xf;
        #[cfg(target_endian = "big")]
        let r = self.regs >> 4;
        r
    }

    /// Source register.
    pub const fn src(&self) -> u8 {
        #[cfg(target_endian = "little")]
        let r = self.regs >> 4;
        #[cfg(target_endian = "big")]
        let r = self.regs & 0xf;
        r
    }
}

/// The BPF_PROG_LOAD member of `union bpf_attr` (up to expected_attach_type;
/// the kernel zero-fills the rest).
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// The BPF_PROG_ATTACH / BPF_PROG_DETACH member of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// The BPF_PROG_QUERY member of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
}

/// The BPF_PROG_GET_FD_BY_ID member of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct GetFdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

fn fd_u32(fd: BorrowedFd<'_>) -> io::Result<u32> {
    u32::try_from(fd.as_raw_fd()).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))
}

/// Calls bpf(2) with `attr`, whose size is passed along.
///
/// # Safety
/// Every pointer stored in `attr` must be valid for the kernel to read (or
/// write, for output buffers) for the given lengths during the call.
unsafe fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, exclusively borrowed repr(C) struct of the
    // given size; the caller vouches for the pointers inside it.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>(),
        )
    };
    crate::check(ret)
}

/// Loads a BPF_PROG_TYPE_CGROUP_DEVICE program. On a verifier refusal the
/// error text carries the verifier log.
pub fn load_cgroup_device(insns: &[Insn], license: &str) -> io::Result<OwnedFd> {
    let lic = crate::cstr(license)?;
    let cnt = u32::try_from(insns.len()).map_err(|_| io::Error::from_raw_os_error(libc::E2BIG))?;
    let load = |log: Option<&mut [u8]>| -> io::Result<OwnedFd> {
        let mut attr = ProgLoadAttr {
            prog_type: PROG_TYPE_CGROUP_DEVICE,
            insn_cnt: cnt,
            insns: insns.as_ptr() as u64,
            license: lic.as_ptr() as u64,
            ..Default::default()
        };
        if let Some(buf) = log {
            attr.log_level = 1;
            attr.log_size = u32::try_from(buf.len()).unwrap_or(u32::MAX);
            attr.log_buf = buf.as_mut_ptr() as u64;
        }
        // SAFETY: `insns` (cnt instructions) and `lic` (NUL-terminated) are
        // borrowed for the whole call and only read; the optional log buffer
        // is exclusively borrowed and its true length is passed.
        let ret = unsafe { bpf(BPF_PROG_LOAD, &mut attr) };
        crate::check_fd(ret?)
    };
    match load(None) {
        Ok(fd) => Ok(fd),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EINVAL)) => {
            let mut buf = vec![0u8; 64 * 1024];
            match load(Some(&mut buf)) {
                Ok(fd) => Ok(fd),
                Err(e2) => {
                    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
                    let log = String::from_utf8_lossy(&buf[..end]);
                    Err(io::Error::new(
                        e2.kind(),
                        format!("{e2}; verifier log: {}", log.trim()),
                    ))
                }
            }
        }
        Err(e) => Err(e),
    }
}

/// BPF_PROG_ATTACH of `prog` to the cgroup directory `cgroup`.
pub fn attach(
    cgroup: BorrowedFd<'_>,
    prog: BorrowedFd<'_>,
    attach_type: u32,
    flags: u32,
) -> io::Result<()> {
    let mut attr = AttachAttr {
        target_fd: fd_u32(cgroup)?,
        attach_bpf_fd: fd_u32(prog)?,
        attach_type,
        attach_flags: flags,
        replace_bpf_fd: 0,
    };
    // SAFETY: the attr holds only integers (fds), no pointers.
    unsafe { bpf(BPF_PROG_ATTACH, &mut attr) }.map(|_| ())
}

/// BPF_PROG_DETACH of `prog` from the cgroup directory `cgroup`.
pub fn detach(cgroup: BorrowedFd<'_>, prog: BorrowedFd<'_>, attach_type: u32) -> io::Result<()> {
    let mut attr = AttachAttr {
        target_fd: fd_u32(cgroup)?,
        attach_bpf_fd: fd_u32(prog)?,
        attach_type,
        ..Default::default()
    };
    // SAFETY: the attr holds only integers (fds), no pointers.
    unsafe { bpf(BPF_PROG_DETACH, &mut attr) }.map(|_| ())
}

/// BPF_PROG_QUERY: ids of the programs attached directly to `cgroup`.
pub fn query(cgroup: BorrowedFd<'_>, attach_type: u32) -> io::Result<Vec<u32>> {
    let mut cap = 64usize;
    for _ in 0..8 {
        let mut ids = vec![0u32; cap];
        let mut attr = QueryAttr {
            target_fd: fd_u32(cgroup)?,
            attach_type,
            prog_ids: ids.as_mut_ptr() as u64,
            prog_cnt: u32::try_from(cap).unwrap_or(u32::MAX),
            ..Default::default()
        };
        // SAFETY: `ids` is exclusively borrowed for the call and holds
        // `prog_cnt` u32 slots for the kernel to fill.
        match unsafe { bpf(BPF_PROG_QUERY, &mut attr) } {
            Ok(_) => {
                let n = usize::try_from(attr.prog_cnt).unwrap_or(0).min(cap);
                ids.truncate(n);
                return Ok(ids);
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => {
                cap = usize::try_from(attr.prog_cnt).unwrap_or(cap).max(cap * 2);
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::from_raw_os_error(libc::ENOSPC))
}

/// BPF_PROG_GET_FD_BY_ID.
pub fn prog_fd_by_id(id: u32) -> io::Result<OwnedFd> {
    let mut attr = GetFdAttr {
        prog_id: id,
        ..Default::default()
    };
    // SAFETY: the attr holds only integers, no pointers.
    let ret = unsafe { bpf(BPF_PROG_GET_FD_BY_ID, &mut attr) }?;
    crate::check_fd(ret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insn_layout_matches_the_kernel() {
        assert_eq!(std::mem::size_of::<Insn>(), 8);
        let i = Insn::new(0x61, 2, 1, 4, -1);
        assert_eq!((i.dst(), i.src(), i.off, i.imm), (2, 1, 4, -1));
        assert_eq!(std::mem::size_of::<ProgLoadAttr>(), 72);
        assert_eq!(std::mem::size_of::<QueryAttr>(), 32);
    }
}
