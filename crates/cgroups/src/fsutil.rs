//! Reading and writing cgroup interface files.
//!
//! Threat: a partial or silently dropped write leaves a limit unset. Writes
//! never create files (no O_CREAT: a missing file is a missing controller, not
//! something to invent), are done in one write(2) as the kernel expects, and
//! every failure names the file, the value and the config field. Removal
//! only ever rmdirs directories on a cgroup filesystem.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC};

use crate::error::{Error, Result};

/// Writes `value` to `dir/file` in a single write(2).
pub(crate) fn write(dir: &Path, file: &str, value: &str, field: &str) -> Result<()> {
    let path = dir.join(file);
    let res = OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| {
            let n = f.write(value.as_bytes())?;
            if n != value.len() {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("short write: {n} of {} bytes", value.len()),
                ));
            }
            Ok(())
        });
    res.map_err(|e| Error::write(&path, value, field, e))
}

/// Writes a multi-line value one line per write(2) (some files, such as
/// `io.max`, take a single entry per write).
pub(crate) fn write_lines(dir: &Path, file: &str, value: &str, field: &str) -> Result<()> {
    let lines: Vec<&str> = value.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() <= 1 {
        return write(dir, file, value, field);
    }
    for line in lines {
        write(dir, file, line, field)?;
    }
    Ok(())
}

/// Whether `dir/file` exists.
pub(crate) fn exists(dir: &Path, file: &str) -> bool {
    dir.join(file).exists()
}

/// Reads `dir/file`.
pub(crate) fn read(dir: &Path, file: &str) -> Result<String> {
    let path = dir.join(file);
    fs::read_to_string(&path).map_err(|e| Error::read(&path, e))
}

/// Reads `dir/file` if it exists.
pub(crate) fn read_opt(dir: &Path, file: &str) -> Result<Option<String>> {
    let path = dir.join(file);
    match fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::read(&path, e)),
    }
}

/// Parses a single number; "max" reads as u64::MAX.
pub(crate) fn parse_u64(path: &Path, s: &str) -> Result<u64> {
    let t = s.trim();
    if t == "max" {
        return Ok(u64::MAX);
    }
    t.parse::<u64>()
        .map_err(|_| Error::parse(path, format!("{t:?} is not a number")))
}

/// Reads a single-number file.
pub(crate) fn read_u64(dir: &Path, file: &str) -> Result<u64> {
    let s = read(dir, file)?;
    parse_u64(&dir.join(file), &s)
}

/// Reads a single-number file if it exists.
pub(crate) fn read_u64_opt(dir: &Path, file: &str) -> Result<Option<u64>> {
    match read_opt(dir, file)? {
        Some(s) => parse_u64(&dir.join(file), &s).map(Some),
        None => Ok(None),
    }
}

/// Reads a single-number file; a missing file reads as 0 (statistics).
pub(crate) fn read_u64_or_zero(dir: &Path, file: &str) -> Result<u64> {
    Ok(read_u64_opt(dir, file)?.unwrap_or(0))
}

/// Parses a flat-keyed file (`key value` per line); lines whose value is not
/// a number are skipped.
pub(crate) fn parse_flat_keyed(s: &str) -> Vec<(String, u64)> {
    s.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let k = it.next()?;
            let v = it.next()?;
            let v = if v == "max" {
                u64::MAX
            } else {
                v.parse::<u64>().ok()?
            };
            Some((k.to_string(), v))
        })
        .collect()
}

/// The value of `key` in a flat-keyed file.
pub(crate) fn keyed_value(s: &str, key: &str) -> Option<u64> {
    parse_flat_keyed(s)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Parses the pids of a `cgroup.procs` file.
pub(crate) fn parse_pids(path: &Path, s: &str) -> Result<Vec<i32>> {
    s.split_whitespace()
        .map(|p| {
            p.parse::<i32>()
                .map_err(|_| Error::parse(path, format!("{p:?} is not a pid")))
        })
        .collect()
}

/// The pids in `dir/cgroup.procs` and in every cgroup below `dir`.
/// A missing `dir` has no pids.
pub(crate) fn pids_recursive(dir: &Path, out: &mut Vec<i32>) -> Result<()> {
    let procs = dir.join("cgroup.procs");
    match fs::read_to_string(&procs) {
        Ok(s) => out.extend(parse_pids(&procs, &s)?),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::read(&procs, e)),
    }
    for sub in subdirs(dir)? {
        pids_recursive(&sub, out)?;
    }
    Ok(())
}

/// Child cgroup directories of `dir` (none if `dir` is gone).
pub(crate) fn subdirs(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::read(dir, e)),
    };
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| Error::read(dir, e))?;
        let is_dir = ent.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir {
            out.push(ent.path());
        }
    }
    Ok(out)
}

/// Enables every available controller in `dir`'s cgroup.subtree_control,
/// one by one (some may be refused, e.g. with processes in `dir`). Returns
/// the refusals as warnings.
pub(crate) fn enable_controllers(dir: &Path) -> Vec<String> {
    let mut warn = Vec::new();
    let avail = read_opt(dir, "cgroup.controllers")
        .ok()
        .flatten()
        .unwrap_or_default();
    let on = read_opt(dir, "cgroup.subtree_control")
        .ok()
        .flatten()
        .unwrap_or_default();
    for c in avail.split_whitespace() {
        if on.split_whitespace().any(|x| x == c) {
            continue;
        }
        if let Err(e) = write(
            dir,
            "cgroup.subtree_control",
            &format!("+{c}"),
            "enabling controllers",
        ) {
            warn.push(e.to_string());
        }
    }
    warn
}

/// Whether `p` is on a cgroup filesystem (never rmdir anything else).
pub(crate) fn on_cgroupfs(p: &Path) -> bool {
    statfs(p)
        .map(|s| {
            let t = s.filesystem_type();
            t == CGROUP_SUPER_MAGIC || t == CGROUP2_SUPER_MAGIC
        })
        .unwrap_or(false)
}

/// rmdir with retries while the kernel still reports the cgroup busy
/// (exiting tasks are released asynchronously).
fn rmdir_retry(p: &Path) -> Result<()> {
    let mut nap = 2u64;
    let start = std::time::Instant::now();
    loop {
        match std::fs::remove_dir(p) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e)
                if e.raw_os_error() == Some(libc::EBUSY)
                    && start.elapsed() < Duration::from_secs(3) =>
            {
                std::thread::sleep(Duration::from_millis(nap));
                nap = (nap * 2).min(100);
            }
            Err(e) => {
                let hint = if e.raw_os_error() == Some(libc::EBUSY) {
                    "processes are still in it: kill them first (kill_all)".to_string()
                } else {
                    String::new()
                };
                return Err(Error::Dir {
                    op: "removing",
                    path: p.to_path_buf(),
                    source: e,
                    hint,
                });
            }
        }
    }
}

/// Removes `p` and every cgroup below it (made by the container), deepest
/// first.
pub(crate) fn remove_tree(p: &Path) -> Result<()> {
    if !p.exists() {
        return Ok(());
    }
    if !on_cgroupfs(p) {
        return Err(Error::Host(format!(
            "refusing to remove {}: it is not on a cgroup filesystem",
            p.display()
        )));
    }
    for sub in subdirs(p)? {
        remove_tree(&sub)?;
    }
    rmdir_retry(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_keyed() {
        let s = "usage_usec 10\nuser_usec 7\nbogus x\nnr_periods 3\nmax max\n";
        let kv = parse_flat_keyed(s);
        assert_eq!(kv.len(), 4);
        assert_eq!(keyed_value(s, "nr_periods"), Some(3));
        assert_eq!(keyed_value(s, "max"), Some(u64::MAX));
        assert_eq!(keyed_value(s, "bogus"), None);
    }

    #[test]
    fn numbers_and_pids() {
        let p = Path::new("/x");
        assert_eq!(parse_u64(p, "42\n").ok(), Some(42));
        assert_eq!(parse_u64(p, "max\n").ok(), Some(u64::MAX));
        assert!(parse_u64(p, "-1").is_err());
        assert_eq!(parse_pids(p, "1\n20\n").ok(), Some(vec![1, 20]));
        assert!(parse_pids(p, "1\nx\n").is_err());
    }
}
