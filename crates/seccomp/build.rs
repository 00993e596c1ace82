//! Lets ward-seccomp link against libseccomp's runtime library alone.
//!
//! libseccomp-sys links `-lseccomp`, which needs the development symlink
//! `libseccomp.so` (Debian: libseccomp-dev). Machines that only have the
//! runtime `libseccomp.so.2` (Debian: libseccomp2, in the base image) get a
//! symlink to it in OUT_DIR instead, so a fresh CI machine builds without
//! installing anything. LIBSECCOMP_LIB_PATH, when set, wins as usual.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LIBSECCOMP_LIB_PATH");
    if env::var_os("LIBSECCOMP_LIB_PATH").is_some() {
        return;
    }
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let env_abi = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let multiarch = format!("{arch}-linux-{env_abi}");
    let dirs: Vec<PathBuf> = [
        format!("/usr/lib/{multiarch}"),
        format!("/lib/{multiarch}"),
        "/usr/lib64".into(),
        "/lib64".into(),
        "/usr/lib".into(),
        "/lib".into(),
        "/usr/local/lib".into(),
    ]
    .into_iter()
    .map(PathBuf::from)
    .collect();
    if dirs.iter().any(|d| d.join("libseccomp.so").exists()) {
        return;
    }
    let Some(runtime) = dirs
        .iter()
        .map(|d| d.join("libseccomp.so.2"))
        .find(|p| p.exists())
    else {
        println!(
            "cargo:warning=libseccomp not found: install libseccomp2 (or libseccomp-dev), or set \
             LIBSECCOMP_LIB_PATH"
        );
        return;
    };
    let Some(out) = env::var_os("OUT_DIR").map(PathBuf::from) else {
        return;
    };
    let link = out.join("libseccomp.so");
    let _ = std::fs::remove_file(&link);
    if let Err(e) = std::os::unix::fs::symlink(&runtime, &link) {
        println!(
            "cargo:warning=cannot link {} to {}: {e}",
            link.display(),
            runtime.display()
        );
        return;
    }
    println!("cargo:rustc-link-search=native={}", out.display());
}
