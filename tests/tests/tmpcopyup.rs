//! `tmpcopyup` (Podman's `--read-only` adds it to its tmpfs mounts): the new
//! tmpfs starts with a copy of the image's files at that path, with their
//! modes, owners and symlinks; writes go to the tmpfs, never to the image.

use ward_tests::{ctx, json};

#[test]
fn tmpfs_with_tmpcopyup_starts_with_the_images_files() {
    let ctx = ctx!("tmpcopyup");
    let mut b = ctx.bundle(&[]);
    let img = b.rootfs().join("etc/app");
    std::fs::create_dir_all(img.join("sub")).expect("mkdir");
    std::fs::write(img.join("sub/f"), "hello\n").expect("write");
    std::os::unix::fs::symlink("/etc/passwd", img.join("link")).expect("symlink");
    std::fs::set_permissions(
        img.join("sub/f"),
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .expect("chmod");
    std::os::unix::fs::chown(img.join("sub/f"), Some(7), Some(8)).expect("chown");
    b.mount(json!({"destination": "/etc/app", "type": "tmpfs", "source": "tmpfs", "options": ["rw", "nosuid", "tmpcopyup", "mode=755"]}));
    let o = ctx.sh(
        &mut b,
        "grep ' /etc/app ' /proc/self/mountinfo | grep -q tmpfs && echo is-tmpfs; \
         stat -c '%a %u %g' /etc/app/sub/f; readlink /etc/app/link; \
         echo new > /etc/app/new && echo writable",
    );
    let lines = o.lines();
    assert!(lines.contains(&"is-tmpfs".to_string()), "{o}");
    assert!(
        lines.contains(&"640 7 8".to_string()),
        "mode/owner not copied: {o}"
    );
    assert!(
        lines.contains(&"/etc/passwd".to_string()),
        "symlink not copied: {o}"
    );
    assert!(lines.contains(&"writable".to_string()), "{o}");
    assert!(
        !img.join("new").exists(),
        "a write inside reached the image"
    );
}
