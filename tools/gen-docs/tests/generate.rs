//! The man pages and completions are generated, and they document every
//! flag the binaries parse.

use std::path::{Path, PathBuf};

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read(dir: &Path, rel: &str) -> String {
    let text = std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert!(!text.is_empty(), "{rel} is empty");
    text
}

/// A long flag as roff writes it: every `-` escaped.
fn roff(flag: &str) -> String {
    format!("\\-\\-{}", flag.replace('-', "\\-"))
}

/// The visible long flags of `cmd`.
fn long_flags(cmd: &clap::Command) -> Vec<String> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect()
}

#[test]
fn generates_pages_and_completions_that_name_every_flag() {
    let tmp = TempDir::new("ward-gen-docs-test");
    let out = &tmp.0;
    let written = ward_gen_docs::generate(out).expect("generates");
    for rel in [
        "man1/ward.1",
        "man1/ward-sandbox.1",
        "man1/ward-audit.1",
        "man1/ward-oci.1",
        "bash/ward.bash",
        "bash/ward-oci.bash",
        "zsh/_ward",
        "zsh/_ward-oci",
        "fish/ward.fish",
        "fish/ward-oci.fish",
    ] {
        assert!(written.contains(&out.join(rel)), "{rel} not in {written:?}");
        read(out, rel);
    }

    let [ward, oci] = ward_gen_docs::commands();
    let sandbox = ward.find_subcommand("sandbox").expect("ward sandbox");
    let flags = long_flags(sandbox);
    assert!(
        flags.iter().any(|f| f == "keep-root") && flags.iter().any(|f| f == "rw"),
        "{flags:?}"
    );
    let page = read(out, "man1/ward-sandbox.1");
    let bash = read(out, "bash/ward.bash");
    for f in &flags {
        // An entry of the OPTIONS section starts a line with the flag in bold.
        let entry = format!("\n\\fB{}\\fR", roff(f));
        assert!(
            page.contains(&entry),
            "ward-sandbox.1 has no entry for --{f}"
        );
        assert!(bash.contains(&format!(" --{f} ")), "ward.bash lacks --{f}");
    }
    let page = read(out, "man1/ward-audit.1");
    for f in long_flags(ward.find_subcommand("audit").expect("ward audit")) {
        assert!(page.contains(&roff(&f)), "ward-audit.1 lacks --{f}");
    }

    // ward-oci: a page per runc subcommand, every global flag on the main
    // page, the hidden --criu nowhere, and a one-line version in the header.
    let page = read(out, "man1/ward-oci.1");
    for sub in oci.get_subcommands().filter(|s| !s.is_hide_set()) {
        read(out, &format!("man1/ward-oci-{}.1", sub.get_name()));
    }
    for f in long_flags(&oci) {
        assert!(page.contains(&roff(&f)), "ward-oci.1 lacks --{f}");
    }
    assert!(!page.contains("criu"), "a hidden flag in ward-oci.1");
    assert!(
        !page.contains("commit:"),
        "runc's version lines in ward-oci.1"
    );
    let th = page.lines().find(|l| l.starts_with(".TH ")).expect(".TH");
    assert!(
        th.contains(&format!("ward-oci {}", env!("CARGO_PKG_VERSION"))),
        "{th}"
    );
}
