//! The Landlock ABI version of the running kernel (for reports; the rules
//! themselves are built with the `landlock` crate in ward-init).

/// landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION): the
/// highest Landlock ABI the kernel supports, 0 when Landlock is not built in
/// or not enabled at boot.
pub fn abi_version() -> u32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_ulong = 1;
    // SAFETY: with a null attribute pointer, size 0 and the VERSION flag the
    // kernel reads no memory and returns a number (or -1 with errno).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(ret).unwrap_or(0)
}
