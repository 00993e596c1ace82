//! Layer directories stacked by overlayfs show the merged tree the OCI
//! image-spec (layer.md, "Whiteouts") requires: whited-out files gone, an
//! opaque directory hides what lower layers had in it, a marker applies
//! whatever its position among its directory's entries, and a whiteout
//! only ever hides lower layers, never its own.

mod common;

use common::*;
use std::process::Command;

fn unpack_into(s: &Scratch, name: &str, tar: &[u8]) -> std::path::PathBuf {
    let dest = s.tmp.join("root").join(name);
    ward_layer::unpack(tar, Compression::None, &dest, &Options::default()).expect("unpack");
    dest
}

#[test]
fn stacked_layers_merge_as_the_spec_says() {
    let s = Scratch::new();
    let base = Tar::new()
        .dir("a/")
        .dir("a/b/")
        .dir("a/b/c/")
        .file("a/b/c/bar", b"bar\n")
        .dir("etc/")
        .file("etc/my-app-config", b"old config\n")
        .dir("bin/")
        .file("bin/my-app-binary", b"bin\n")
        .file("bin/my-app-tools", b"tools v1\n")
        .dir("bin/tools/")
        .file("bin/tools/my-app-tool-one", b"one\n")
        .dir("gone/")
        .file("gone/x", b"x\n")
        .dir("d/")
        .file("d/old", b"old\n")
        .dir("keep/")
        .file("keep/k", b"k\n")
        .finish();
    let middle = Tar::new()
        .dir("a/")
        .file("a/.wh..wh..opq", b"")
        .dir("a/b/")
        .dir("a/b/c/")
        .file("a/b/c/foo", b"foo\n")
        .dir("etc/")
        .file("etc/.wh.my-app-config", b"")
        .dir("etc/my-app.d/")
        .file("etc/my-app.d/default.cfg", b"cfg\n")
        .dir("bin/")
        .file("bin/my-app-tools", b"tools v2\n")
        .file(".wh.gone", b"")
        // Deleted from below and recreated in the same layer.
        .file(".wh.d", b"")
        .dir("d/")
        .file("d/new", b"new\n")
        .finish();
    let top = Tar::new()
        // The opaque marker after the entries it must not hide.
        .dir("bin/")
        .file("bin/new-tool", b"new tool\n")
        .file("bin/.wh..wh..opq", b"")
        // A whiteout after a file of its own layer hides only lower ones.
        .dir("keep/")
        .file("keep/k2", b"k2\n")
        .file("keep/.wh.k2", b"")
        .finish();
    let l1 = unpack_into(&s, "l1", &base);
    let l2 = unpack_into(&s, "l2", &middle);
    let l3 = unpack_into(&s, "l3", &top);
    let merged = s.tmp.join("merged");
    std::fs::create_dir(&merged).expect("mkdir");

    // In a private mount namespace: the mount dies with the shell, even
    // if the test fails.
    let script = format!(
        "mount -t overlay overlay -o lowerdir={}:{}:{} {m} && cd {m} && \
         find . -mindepth 1 -printf '%P %y\\n' | sort && \
         cat bin/new-tool d/new keep/k keep/k2 a/b/c/foo",
        l3.display(),
        l2.display(),
        l1.display(),
        m = merged.display()
    );
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-ec", &script])
        .output()
        .expect("unshare");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = String::from_utf8_lossy(&out.stdout);
    let want = "\
a d
a/b d
a/b/c d
a/b/c/foo f
bin d
bin/new-tool f
d d
d/new f
etc d
etc/my-app.d d
etc/my-app.d/default.cfg f
keep d
keep/k f
keep/k2 f
new tool
new
k
k2
foo
";
    assert_eq!(got, want);
}
