//! The compiled-filter cache: a hit gives exactly what compiling gives, and
//! an entry that fails a check (content, owner, mode, symlink) or a
//! directory others can write is never used.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use ward_seccomp::cache::{compile_cached, Outcome};
use ward_seccomp::{compile, CompileOptions};
use ward_spec::seccomp::{Action, LinuxSeccomp, Syscall};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ward-seccomp-cache-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn profile(denied: &str) -> LinuxSeccomp {
    let mut p = LinuxSeccomp::new(Action::Allow);
    p.syscalls.push(Syscall {
        names: vec![denied.into()],
        action: Action::Errno,
        errno_ret: Some(1),
        args: vec![],
    });
    p
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("cache dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn only_entry(dir: &Path) -> PathBuf {
    let names = entries(dir);
    assert_eq!(names.len(), 1, "one entry expected: {names:?}");
    dir.join(&names[0])
}

#[test]
fn a_hit_is_exactly_what_compiling_gives() {
    let dir = scratch("hit").join("cache");
    let p = profile("mkdir");
    let opts = CompileOptions::default();
    let fresh = compile(&p, &opts).expect("compiles");
    let (first, o1) = compile_cached(&p, &opts, &dir).expect("first");
    assert_eq!(o1, Outcome::Stored);
    let (second, o2) = compile_cached(&p, &opts, &dir).expect("second");
    assert_eq!(o2, Outcome::Hit);
    assert_eq!(first, fresh);
    assert_eq!(second, fresh);
    let mode = fs::metadata(&dir).expect("dir").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the cache directory is private");
    let mode = fs::metadata(only_entry(&dir))
        .expect("entry")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    // Another profile or other options: another entry, not the first one.
    let (other, o3) = compile_cached(&profile("rmdir"), &opts, &dir).expect("other");
    assert_eq!(o3, Outcome::Stored);
    assert_ne!(other.bpf, fresh.bpf);
    let no_stub = CompileOptions {
        enosys_stub: false,
        ..opts
    };
    let (plain, o4) = compile_cached(&p, &no_stub, &dir).expect("options");
    assert_eq!(o4, Outcome::Stored);
    assert_eq!(plain, compile(&p, &no_stub).expect("compiles"));
    assert_eq!(entries(&dir).len(), 3);
}

#[test]
fn a_changed_entry_is_recompiled_and_replaced() {
    let dir = scratch("tamper");
    let p = profile("mkdir");
    let opts = CompileOptions::default();
    let fresh = compile(&p, &opts).expect("compiles");
    compile_cached(&p, &opts, &dir).expect("store");
    let entry = only_entry(&dir);
    let text = fs::read_to_string(&entry).expect("entry");
    // One instruction byte changed (a different errno, say): the checksum
    // no longer matches.
    let pos = text.find("bpf_hex\":\"").expect("bpf field") + 20;
    let mut bytes = text.into_bytes();
    bytes[pos] = if bytes[pos] == b'0' { b'1' } else { b'0' };
    fs::write(&entry, &bytes).expect("tamper");
    let (f, o) = compile_cached(&p, &opts, &dir).expect("recompiled");
    assert!(
        matches!(&o, Outcome::Replaced(why) if why.contains("checksum")),
        "{o:?}"
    );
    assert_eq!(f, fresh);
    let (_, again) = compile_cached(&p, &opts, &dir).expect("hit");
    assert_eq!(again, Outcome::Hit, "the replacement is a valid entry");
}

#[test]
fn an_entry_others_could_write_or_a_symlink_is_not_used() {
    let dir = scratch("perm");
    let p = profile("mkdir");
    let opts = CompileOptions::default();
    compile_cached(&p, &opts, &dir).expect("store");
    let entry = only_entry(&dir);
    fs::set_permissions(&entry, fs::Permissions::from_mode(0o666)).expect("chmod");
    let (_, o) = compile_cached(&p, &opts, &dir).expect("recompiled");
    assert!(
        matches!(&o, Outcome::Replaced(why) if why.contains("lets others write")),
        "{o:?}"
    );
    assert_eq!(
        fs::metadata(&entry).expect("entry").permissions().mode() & 0o777,
        0o600
    );

    // A symlink in the entry's place (to a valid entry elsewhere) is not
    // followed, and replacing it does not write through it.
    let elsewhere = scratch("perm-target").join("entry.json");
    fs::copy(&entry, &elsewhere).expect("copy");
    let before = fs::read(&elsewhere).expect("target");
    fs::remove_file(&entry).expect("rm");
    symlink(&elsewhere, &entry).expect("symlink");
    let (_, o) = compile_cached(&p, &opts, &dir).expect("recompiled");
    assert!(matches!(o, Outcome::Replaced(_)), "{o:?}");
    assert!(!fs::symlink_metadata(&entry)
        .expect("entry")
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(&elsewhere).expect("target"), before);
}

#[test]
fn a_directory_others_can_write_or_a_symlinked_one_is_bypassed() {
    let base = scratch("dir");
    let p = profile("mkdir");
    let opts = CompileOptions::default();
    let open = base.join("open");
    fs::create_dir(&open).expect("dir");
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).expect("chmod");
    let (f, o) = compile_cached(&p, &opts, &open).expect("compiled");
    assert!(
        matches!(&o, Outcome::Bypassed(why) if why.contains("lets others write")),
        "{o:?}"
    );
    assert_eq!(f, compile(&p, &opts).expect("compiles"));
    assert!(
        entries(&open).is_empty(),
        "nothing written to an unsafe directory"
    );

    let real = base.join("real");
    fs::create_dir(&real).expect("dir");
    let link = base.join("link");
    symlink(&real, &link).expect("symlink");
    let (_, o) = compile_cached(&p, &opts, &link).expect("compiled");
    assert!(
        matches!(&o, Outcome::Bypassed(why) if why.contains("not a directory")),
        "{o:?}"
    );
    assert!(entries(&real).is_empty());
}

#[test]
fn concurrent_writers_leave_one_whole_entry() {
    let dir = scratch("race");
    let p = profile("mkdir");
    let opts = CompileOptions::default();
    let fresh = compile(&p, &opts).expect("compiles");
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (p, dir) = (p.clone(), dir.clone());
            std::thread::spawn(move || compile_cached(&p, &opts, &dir).expect("compiled").0)
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("thread"), fresh);
    }
    only_entry(&dir);
    let (_, o) = compile_cached(&p, &opts, &dir).expect("hit");
    assert_eq!(o, Outcome::Hit);
}
