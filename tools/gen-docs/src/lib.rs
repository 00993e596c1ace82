//! Man pages and shell completions of `ward` and `ward-oci`, generated from
//! the clap definitions the binaries parse with (crates/cli,
//! crates/oci-cli), so that no flag is documented in a second place. A tool
//! of its own rather than a subcommand of either binary: ward-oci must keep
//! runc's command line, and neither released binary needs to carry the
//! generators.

use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

/// The subdirectory of the output directory for man pages (section 1).
pub const MAN_DIR: &str = "man1";

/// Each shell, and the subdirectory of the output directory for its
/// completion files (named as each shell looks them up: `ward.bash`,
/// `_ward`, `ward.fish`).
pub const SHELLS: [(Shell, &str); 3] = [
    (Shell::Bash, "bash"),
    (Shell::Zsh, "zsh"),
    (Shell::Fish, "fish"),
];

/// The command lines of `ward` and `ward-oci`, as documented.
pub fn commands() -> [clap::Command; 2] {
    [
        ward_cli::Cli::command(),
        // `ward-oci --version` prints runc's three lines (Docker parses
        // them); a man page puts the version in its one-line header. The
        // workspace's packages share one version.
        ward_oci_cli::Cli::command().version(env!("CARGO_PKG_VERSION")),
    ]
}

/// Writes the man pages (one per command and subcommand: `ward.1`,
/// `ward-sandbox.1`, `ward-oci-create.1`, ...) and the bash, zsh and fish
/// completions below `out`; returns the files written.
pub fn generate(out: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let man = out.join(MAN_DIR);
    std::fs::create_dir_all(&man)?;
    for cmd in commands() {
        // The footer of every page: "ward 0.1.0", "ward-oci 0.1.0".
        let source = format!(
            "{} {}",
            cmd.get_name(),
            cmd.get_version().unwrap_or_default()
        );
        written.extend(man_pages(cmd, &man, &source)?);
    }
    for (shell, sub) in SHELLS {
        let dir = out.join(sub);
        std::fs::create_dir_all(&dir)?;
        for mut cmd in commands() {
            let name = cmd.get_name().to_string();
            written.push(clap_complete::generate_to(shell, &mut cmd, name, &dir)?);
        }
    }
    Ok(written)
}

/// The pages of `cmd` and of each of its visible subcommands, as
/// `clap_mangen::generate_to` writes them, but returning the paths.
fn man_pages(cmd: clap::Command, dir: &Path, source: &str) -> io::Result<Vec<PathBuf>> {
    // No `help` subcommand page: `ward help sandbox` is `ward sandbox --help`.
    let mut cmd = cmd.disable_help_subcommand(true);
    // Gives each subcommand its display name ("ward-sandbox"), the page's name.
    cmd.build();
    let mut written = Vec::new();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        written.extend(man_pages(sub.clone(), dir, source)?);
    }
    let man = clap_mangen::Man::new(cmd).source(source).manual("ward");
    written.push(man.generate_to(dir)?);
    Ok(written)
}
