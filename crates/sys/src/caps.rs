//! Capabilities: capget/capset (v3), the bounding set and the ambient set.

use std::io;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const VERSION_3: u32 = 0x2008_0522;

/// The three per-thread sets as 64-bit masks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

/// capset(2) for the calling thread.
pub fn set(sets: CapSets) -> io::Result<()> {
    let hdr = CapHeader {
        version: VERSION_3,
        pid: 0,
    };
    let lo = |m: u64| m as u32;
    let hi = |m: u64| (m >> 32) as u32;
    let data = [
        CapData {
            effective: lo(sets.effective),
            permitted: lo(sets.permitted),
            inheritable: lo(sets.inheritable),
        },
        CapData {
            effective: hi(sets.effective),
            permitted: hi(sets.permitted),
            inheritable: hi(sets.inheritable),
        },
    ];
    // SAFETY: header and the two-element data array (the v3 ABI) are valid
    // and outlive the call.
    let ret = unsafe { libc::syscall(libc::SYS_capset, &hdr as *const CapHeader, data.as_ptr()) };
    crate::check(ret).map(drop)
}

/// capget(2) for the calling thread.
pub fn get() -> io::Result<CapSets> {
    let hdr = CapHeader {
        version: VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and the two-element output array are valid for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &hdr as *const CapHeader,
            data.as_mut_ptr(),
        )
    };
    crate::check(ret)?;
    let join = |l: u32, h: u32| u64::from(l) | (u64::from(h) << 32);
    Ok(CapSets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

fn prctl5(a: libc::c_int, b: libc::c_ulong, c: libc::c_ulong) -> io::Result<libc::c_int> {
    // SAFETY: the capability prctls take integer arguments only.
    let ret = unsafe { libc::prctl(a, b, c, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    crate::check(libc::c_long::from(ret)).map(|r| r as libc::c_int)
}

/// Highest capability number this kernel knows.
pub fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// Whether `cap` is in the bounding set.
pub fn bounding_has(cap: u32) -> io::Result<bool> {
    prctl5(libc::PR_CAPBSET_READ, libc::c_ulong::from(cap), 0).map(|r| r == 1)
}

/// Drops `cap` from the bounding set (needs CAP_SETPCAP).
pub fn bounding_drop(cap: u32) -> io::Result<()> {
    prctl5(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap), 0).map(drop)
}

/// Raises `cap` in the ambient set (it must be permitted and inheritable).
pub fn ambient_raise(cap: u32) -> io::Result<()> {
    prctl5(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
        libc::c_ulong::from(cap),
    )
    .map(drop)
}

/// Empties the ambient set.
pub fn ambient_clear_all() -> io::Result<()> {
    prctl5(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
        0,
    )
    .map(drop)
}
