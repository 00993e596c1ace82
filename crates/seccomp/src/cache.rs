//! A cache of compiled filters, so that a profile is compiled once per boot,
//! not once per container.
//!
//! Why: libseccomp needs ~10-15 ms to compile Docker's default profile
//! (~1000 instructions) on a 2-core VM — longer than the rest of `ward-oci
//! run`. Docker, Podman and Kubernetes (`RuntimeDefault`) send the same
//! profile to every container, so the result is reused: the key is a
//! SHA-256 of everything the program depends on (the profile as parsed,
//! the compile options, the architecture, the libseccomp and ward versions
//! and the kernel release).
//!
//! Threat: a cache entry is code the kernel runs for every syscall of a
//! container; a planted or corrupted entry would weaken the filter. So an
//! entry is used only when the directory and the file belong to this
//! user, are writable by nobody else and are no symlinks, the file's
//! SHA-256 (written with it) matches, its key is the one asked for, and
//! the program is well formed; anything else is ignored and recompiled.
//! Writers write a temp file and rename it: two runtimes filling the same
//! entry at once each publish a whole file, never a torn one. A cache that
//! cannot be read or written costs speed, never a container.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ward_spec::seccomp::{Arch, LinuxSeccomp};

use crate::{compile, CompileOptions, CompiledFilter, Error};

/// The cache's directory under a runtime's state root: `@` is not allowed
/// in container ids, so no container can own this name.
pub const DIR_NAME: &str = "seccomp@cache";
/// Bump when the entry format or the compiler's output changes meaning.
const FORMAT: &str = "ward-seccomp-cache 1";
/// Far above any real entry (4096 instructions are 32 KiB, hex 64 KiB).
const MAX_ENTRY_BYTES: u64 = 1 << 20;
/// More distinct profiles than this on one host is unusual: the cache is
/// emptied rather than grown without bound.
const MAX_ENTRIES: usize = 256;

/// What happened to the cache on a [`compile_cached`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A valid entry was used; nothing was compiled.
    Hit,
    /// Compiled and stored.
    Stored,
    /// Compiled and stored in place of an entry that failed a check (why).
    Replaced(String),
    /// Compiled; the cache was not used, for the reason given (the
    /// directory is not safe, a write failed).
    Bypassed(String),
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    bpf_hex: String,
    flags: u32,
    needs_listener: bool,
    unknown_syscalls: Vec<String>,
    enosys_stub_len: usize,
    enosys_above: Vec<(Arch, u32)>,
    implicit_clone3_enosys: bool,
}

/// [`compile`] through the cache in `dir` (created 0700 if missing).
pub fn compile_cached(
    profile: &LinuxSeccomp,
    opts: &CompileOptions,
    dir: &Path,
) -> Result<(CompiledFilter, Outcome), Error> {
    if let Err(why) = safe_dir(dir) {
        // Neither read nor written: someone else could plant entries there.
        return Ok((compile(profile, opts)?, Outcome::Bypassed(why)));
    }
    let Some(key) = key(profile, opts) else {
        return Ok((
            compile(profile, opts)?,
            Outcome::Bypassed("the profile has no key".into()),
        ));
    };
    let path = dir.join(format!("{key}.json"));
    let rejected = match read_entry(&path, &key) {
        Ok(Some(f)) => return Ok((f, Outcome::Hit)),
        Ok(None) => None,
        Err(why) => Some(why),
    };
    let f = compile(profile, opts)?;
    let outcome = match (write_entry(dir, &path, &key, &f), rejected) {
        (Err(e), _) => Outcome::Bypassed(format!("writing {}: {e}", path.display())),
        (Ok(()), Some(why)) => Outcome::Replaced(why),
        (Ok(()), None) => Outcome::Stored,
    };
    Ok((f, outcome))
}

/// The entry's name: SHA-256 over everything the compiled program depends on.
fn key(profile: &LinuxSeccomp, opts: &CompileOptions) -> Option<String> {
    let mut h = Sha256::new();
    for part in [
        FORMAT,
        env!("CARGO_PKG_VERSION"),
        &crate::libseccomp_version(),
        &format!("{:?}", crate::native_arch()),
        &kernel_release(),
        &format!("{opts:?}"),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    // Serialize of the parsed profile: field order is fixed and lists keep
    // their order, so equal profiles give equal bytes.
    h.update(serde_json::to_vec(profile).ok()?);
    Some(hex(&h.finalize()))
}

fn kernel_release() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let pairs = s.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs
        .map(|p| {
            let digits = std::str::from_utf8(p)
                .ok()
                .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))?;
            u8::from_str_radix(digits, 16).ok()
        })
        .collect()
}

/// Owned by us, a real directory (not a symlink), writable by nobody else.
fn safe_dir(dir: &Path) -> Result<(), String> {
    let bad = |why: String| format!("directory {}: {why}", dir.display());
    match DirBuilder::new().recursive(true).mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(bad(e.to_string())),
    }
    let m = fs::symlink_metadata(dir).map_err(|e| bad(e.to_string()))?;
    owned_and_private(&m, true).map_err(bad)
}

fn owned_and_private(m: &fs::Metadata, want_dir: bool) -> Result<(), String> {
    let kind_ok = if want_dir {
        m.file_type().is_dir()
    } else {
        m.file_type().is_file()
    };
    if !kind_ok {
        return Err(if want_dir {
            "not a directory"
        } else {
            "not a regular file"
        }
        .into());
    }
    let me = nix::unistd::geteuid().as_raw();
    if m.uid() != me {
        return Err(format!("owned by uid {}, not {me}", m.uid()));
    }
    if m.mode() & 0o022 != 0 {
        return Err(format!("mode {:o} lets others write", m.mode() & 0o7777));
    }
    Ok(())
}

/// Ok(None): no entry yet. Err: an entry exists but fails a check.
fn read_entry(path: &Path, key: &str) -> Result<Option<CompiledFilter>, String> {
    let mut file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("entry {}: {e}", path.display())),
    };
    let bad = |why: &str| format!("entry {}: {why}", path.display());
    let m = file.metadata().map_err(|e| bad(&e.to_string()))?;
    owned_and_private(&m, false).map_err(|why| bad(&why))?;
    if m.len() > MAX_ENTRY_BYTES {
        return Err(bad("too large"));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| bad(&e.to_string()))?;
    let (sum, body) = text
        .split_once('\n')
        .ok_or_else(|| bad("no checksum line"))?;
    if hex(&Sha256::digest(body.as_bytes())) != sum {
        return Err(bad("checksum does not match its content"));
    }
    let e: Entry = serde_json::from_str(body).map_err(|e| bad(&e.to_string()))?;
    if e.key != key {
        return Err(bad("written for another key"));
    }
    let bpf = unhex(&e.bpf_hex).ok_or_else(|| bad("program is not hex"))?;
    let insns = bpf.len() / 8;
    if bpf.is_empty() || bpf.len() != insns * 8 || insns > 4096 || e.enosys_stub_len > insns {
        return Err(bad("program is malformed"));
    }
    Ok(Some(CompiledFilter {
        bpf,
        flags: e.flags,
        needs_listener: e.needs_listener,
        unknown_syscalls: e.unknown_syscalls,
        enosys_stub_len: e.enosys_stub_len,
        enosys_above: e.enosys_above,
        implicit_clone3_enosys: e.implicit_clone3_enosys,
    }))
}

fn write_entry(dir: &Path, path: &Path, key: &str, f: &CompiledFilter) -> std::io::Result<()> {
    let body = serde_json::to_string(&Entry {
        key: key.to_owned(),
        bpf_hex: hex(&f.bpf),
        flags: f.flags,
        needs_listener: f.needs_listener,
        unknown_syscalls: f.unknown_syscalls.clone(),
        enosys_stub_len: f.enosys_stub_len,
        enosys_above: f.enosys_above.clone(),
        implicit_clone3_enosys: f.implicit_clone3_enosys,
    })
    .map_err(std::io::Error::other)?;
    if fs::read_dir(dir)?.count() >= MAX_ENTRIES {
        for e in fs::read_dir(dir)?.flatten() {
            let _ = fs::remove_file(e.path());
        }
    }
    // Unique per process and call: concurrent writers never share a temp file.
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".tmp-{}-{n}-{key}", std::process::id()));
    let mut out: File = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&tmp)?;
    let res = out
        .write_all(format!("{}\n{body}", hex(&Sha256::digest(body.as_bytes()))).as_bytes())
        .and_then(|()| fs::rename(&tmp, path));
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}
