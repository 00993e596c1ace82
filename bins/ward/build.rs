//! Compiles the seccomp profile of `ward sandbox` ahead of time: libseccomp
//! needs ~20 ms for it, more than the rest of a sandbox start. At run time
//! ward uses this program for the default profile only (`--seccomp` and
//! `--learn` profiles are compiled then). Both come from the same
//! function, and the JSON of the profile compiled here is kept: a test of
//! this crate checks that it is what the sandbox's spec holds, and that
//! compiling it gives this program (serialising it at every start cost
//! ~50 µs).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let host = std::env::var("HOST").unwrap_or_default();
    let target = std::env::var("TARGET").unwrap_or_default();
    let (bpf, flags, json) = if host == target {
        let p = ward_seccomp::sandbox::profile();
        match ward_seccomp::compile(&p, &ward_seccomp::CompileOptions::default()) {
            Ok(f) if !f.needs_listener => (
                f.bpf,
                f.flags.to_string(),
                serde_json::to_string(&p).expect("a profile serialises"),
            ),
            Ok(_) => (Vec::new(), String::new(), String::new()),
            Err(e) => {
                println!("cargo:warning=seccomp profile not precompiled: {e}");
                (Vec::new(), String::new(), String::new())
            }
        }
    } else {
        // Cross build: the build host's libseccomp knows the host's arch only.
        (Vec::new(), String::new(), String::new())
    };
    std::fs::write(out.join("seccomp.bpf"), bpf).expect("writing OUT_DIR");
    std::fs::write(out.join("seccomp.flags"), flags).expect("writing OUT_DIR");
    std::fs::write(out.join("seccomp.json"), json).expect("writing OUT_DIR");
}
