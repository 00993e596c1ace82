//! `ward audit dockerfile`: the checks on a parsed Dockerfile (the seeds'
//! build advice and CIS Docker Benchmark section 4, hadolint-like).

use std::collections::BTreeMap;
use std::path::Path;

use ward_policy::Severity::{Critical, High, Low, Medium};

use crate::dockerfile::{parse, Args, Instruction};
use crate::finding::{Check, Finding};
use crate::shell::{self, Command};

pub const ADD_LOCAL: Check = Check {
    id: "dockerfile.add-local",
    cis: &["4.9"],
    severity: Medium,
    title: "ADD of a local file where COPY would do",
    why: "ADD silently extracts local tar archives into the image: a crafted archive writes outside the target directory (zip-slip) or replaces files an attacker chose",
    fix: "COPY src dest (extract archives explicitly with RUN tar --no-same-owner -xf if needed)",
};
pub const ADD_REMOTE: Check = Check {
    id: "dockerfile.add-remote",
    cis: &["4.9"],
    severity: High,
    title: "ADD of a URL without a checksum",
    why: "whoever controls the URL, its DNS or a proxy on the way decides what goes into the image: nothing verifies the download",
    fix: "ADD --checksum=sha256:<digest> URL dest, or RUN curl -fsSLo f URL && echo '<sha256>  f' | sha256sum -c -",
};
pub const USER_MISSING: Check = Check {
    id: "dockerfile.user-missing",
    cis: &["4.1"],
    severity: Medium,
    title: "no USER: the container runs as root",
    why: "root in the container is root on the host's kernel interface: one kernel or runtime bug (or a mount) away from the host, and owner of every file in the image",
    fix: "RUN useradd -r -u 10001 app  then  USER 10001",
};
pub const USER_ROOT: Check = Check {
    id: "dockerfile.user-root",
    cis: &["4.1"],
    severity: Medium,
    title: "the last USER is root",
    why: "the image's process runs as root: a compromise of it starts with every file in the container and the widest kernel attack surface",
    fix: "end the final stage with USER <non-root uid> (switch to root only for the RUN lines that need it)",
};
pub const CURL_PIPE_SHELL: Check = Check {
    id: "dockerfile.curl-pipe-shell",
    cis: &["4.11"],
    severity: High,
    title: "a download piped into a shell",
    why: "code fetched at build time runs unverified: whoever serves or intercepts the URL runs commands in your build and image",
    fix: "download to a file, verify its checksum or signature (sha256sum -c, gpg --verify), then run it",
};
pub const SECRET_NAME: Check = Check {
    id: "dockerfile.secret-env",
    cis: &["4.10"],
    severity: High,
    title: "a secret in ARG or ENV",
    why: "ENV values are stored in the image config and ARG values in its history: anyone who can pull the image reads the secret (docker history, docker inspect)",
    fix: "RUN --mount=type=secret,id=NAME ... (docker build --secret id=NAME,src=FILE), or pass it at run time",
};
pub const SECRET_VALUE: Check = Check {
    id: "dockerfile.secret-value",
    cis: &["4.10"],
    severity: Critical,
    title: "a value that looks like a credential (key, token)",
    why: "the credential is in the Dockerfile, its repository and every image built from it: anyone who reads either can use it",
    fix: "revoke the credential, remove it from the file and its history, and pass it with RUN --mount=type=secret",
};
pub const FROM_LATEST: Check = Check {
    id: "dockerfile.from-latest",
    cis: &[],
    severity: Medium,
    title: "base image by the :latest tag",
    why: "the base changes under you: builds are not reproducible and a compromised or broken latest tag is picked up silently",
    fix: "FROM image:version@sha256:<digest>",
};
pub const FROM_UNTAGGED: Check = Check {
    id: "dockerfile.from-untagged",
    cis: &[],
    severity: Medium,
    title: "base image without a tag or digest (means :latest)",
    why: "the base changes under you: builds are not reproducible and a compromised or broken latest tag is picked up silently",
    fix: "FROM image:version@sha256:<digest>",
};
pub const APT_UPDATE_ALONE: Check = Check {
    id: "dockerfile.apt-update-alone",
    cis: &["4.7"],
    severity: Medium,
    title: "apt-get update without install in the same RUN",
    why: "the update layer is cached: later installs use stale package lists and miss security updates",
    fix: "RUN apt-get update && apt-get install -y --no-install-recommends pkg && rm -rf /var/lib/apt/lists/*",
};
pub const APT_RECOMMENDS: Check = Check {
    id: "dockerfile.apt-recommends",
    cis: &["4.3"],
    severity: Low,
    title: "apt-get install without --no-install-recommends",
    why: "recommended packages add software nobody asked for: more code to patch and to attack",
    fix: "apt-get install -y --no-install-recommends pkg",
};
pub const APT_LISTS: Check = Check {
    id: "dockerfile.apt-lists-kept",
    cis: &[],
    severity: Low,
    title: "apt-get install without removing the package lists",
    why: "stale package lists stay in the image: a larger image, and lists that no longer match the archive's security updates",
    fix: "... && rm -rf /var/lib/apt/lists/*  (in the same RUN)",
};
pub const SUDO: Check = Check {
    id: "dockerfile.sudo",
    cis: &[],
    severity: Medium,
    title: "sudo in a RUN line",
    why: "sudo in an image means a root escalation path inside the container and unpredictable TTY and signal behaviour",
    fix: "run the step as root with USER root before it and USER <app> after, or use gosu/setpriv in the entrypoint",
};
pub const WORLD_WRITABLE: Check = Check {
    id: "dockerfile.world-writable",
    cis: &[],
    severity: Medium,
    title: "chmod making files world-writable (777)",
    why: "any user in the container (or a process that drops privileges) can replace what root later runs",
    fix: "chmod 755 (directories) / 644 (files), and chown to the user that must write",
};
pub const SETUID: Check = Check {
    id: "dockerfile.setuid",
    cis: &["4.8"],
    severity: Medium,
    title: "a setuid or setgid bit set",
    why: "a setuid binary is a privilege escalation path from the container's user back to root",
    fix: "drop the chmod u+s/g+s; remove existing bits: RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +",
};
pub const NEEDS_PRIVILEGES: Check = Check {
    id: "dockerfile.needs-privileges",
    cis: &["5.5"],
    severity: Low,
    title: "a command that only works with host privileges",
    why: "an image that needs mount, modules, sysctls or file capabilities pushes its users to --privileged or --cap-add, which removes the container boundary",
    fix: "move the step to the host or to build time; give the container the one capability it needs (never --privileged)",
};
pub const LABEL_PRIVILEGED: Check = Check {
    id: "dockerfile.label-privileged",
    cis: &["5.5"],
    severity: Medium,
    title: "a LABEL tells users to run it privileged",
    why: "tools that honour run labels (atomic, podman container runlabel) start it with host privileges: root in it is root on the host",
    fix: "remove --privileged, --pid/--net host and socket mounts from the label; document the minimal --cap-add",
};
pub const HEALTHCHECK_MISSING: Check = Check {
    id: "dockerfile.healthcheck-missing",
    cis: &["4.6"],
    severity: Low,
    title: "no HEALTHCHECK in the final stage",
    why: "a hung or compromised service keeps running as healthy: orchestrators cannot restart or stop routing to it",
    fix: "HEALTHCHECK --interval=30s CMD wget -qO- http://127.0.0.1:8080/health || exit 1",
};
pub const EXPOSE_SSH: Check = Check {
    id: "dockerfile.expose-ssh",
    cis: &["5.7"],
    severity: Medium,
    title: "EXPOSE 22: an SSH server in the container",
    why: "sshd adds credentials, keys and a network service to defend in every container; docker exec does the job without them",
    fix: "remove sshd and EXPOSE 22; use docker exec (or kubectl exec) for access",
};

/// Every Dockerfile check, for docs and listings.
pub const CHECKS: &[&Check] = &[
    &ADD_LOCAL,
    &ADD_REMOTE,
    &USER_MISSING,
    &USER_ROOT,
    &CURL_PIPE_SHELL,
    &SECRET_NAME,
    &SECRET_VALUE,
    &FROM_LATEST,
    &FROM_UNTAGGED,
    &APT_UPDATE_ALONE,
    &APT_RECOMMENDS,
    &APT_LISTS,
    &SUDO,
    &WORLD_WRITABLE,
    &SETUID,
    &NEEDS_PRIVILEGES,
    &LABEL_PRIVILEGED,
    &HEALTHCHECK_MISSING,
    &EXPOSE_SSH,
];

/// One build stage: what the final-stage checks need.
struct Stage {
    line: u32,
    name: Option<String>,
    /// The earlier stage it builds on (`FROM build`).
    parent: Option<usize>,
    user: Option<(String, u32)>,
    healthcheck: Option<(bool, u32)>,
}

/// The findings of the Dockerfile `text` (read from `path`).
pub fn check(path: &Path, text: &str) -> Vec<Finding> {
    let d = parse(text);
    let mut out: Vec<Finding> = Vec::new();
    let mut push = |f: Finding, line: u32| out.push(f.in_file(path, Some(line)));
    let mut global_args: BTreeMap<String, String> = BTreeMap::new();
    let mut stages: Vec<Stage> = Vec::new();
    for ins in &d.instructions {
        let l = ins.line;
        match ins.keyword.as_str() {
            "ARG" if stages.is_empty() => {
                for w in ins.words() {
                    let (k, v) = w.split_once('=').unwrap_or((&w, ""));
                    global_args.insert(k.to_string(), v.to_string());
                }
                secrets(ins, &mut push);
            }
            "ARG" | "ENV" => secrets(ins, &mut push),
            "FROM" => {
                let words = ins.words();
                let image = words
                    .first()
                    .map(|w| expand(w, &global_args))
                    .unwrap_or_default();
                let name = match (words.get(1), words.get(2)) {
                    (Some(a), Some(n)) if a.eq_ignore_ascii_case("as") => {
                        Some(n.to_ascii_lowercase())
                    }
                    _ => None,
                };
                let parent = stages
                    .iter()
                    .position(|s| s.name.as_deref() == Some(image.to_ascii_lowercase().as_str()));
                if parent.is_none() {
                    if let Some(f) = unpinned(&image) {
                        push(f, l);
                    }
                }
                stages.push(Stage {
                    line: l,
                    name,
                    parent,
                    user: None,
                    healthcheck: None,
                });
            }
            "USER" => {
                if let Some(s) = stages.last_mut() {
                    s.user = Some((ins.words().join(" "), l));
                }
            }
            "HEALTHCHECK" => {
                if let Some(s) = stages.last_mut() {
                    let none = ins
                        .words()
                        .first()
                        .is_some_and(|w| w.eq_ignore_ascii_case("none"));
                    s.healthcheck = Some((!none, l));
                }
            }
            "ADD" => add(ins, &mut push),
            "COPY" => chmod_flag(ins, &mut push),
            "RUN" => run(ins, &mut push),
            "EXPOSE" => {
                let ssh = ins.words().iter().any(|p| {
                    let port = p.split('/').next().unwrap_or(p);
                    match port.split_once('-') {
                        Some((a, b)) => {
                            a.parse::<u32>().is_ok_and(|a| a <= 22)
                                && b.parse::<u32>().is_ok_and(|b| b >= 22)
                        }
                        None => port == "22",
                    }
                });
                if ssh {
                    push(EXPOSE_SSH.seen(&ins.text), l);
                }
            }
            "LABEL" => {
                let t = ins.text.to_ascii_lowercase();
                let hints = [
                    "--privileged",
                    "--pid=host",
                    "--pid host",
                    "--net=host",
                    "--network=host",
                    "docker.sock",
                    "--cap-add=all",
                    "--cap-add all",
                ];
                if hints.iter().any(|h| t.contains(h)) {
                    push(LABEL_PRIVILEGED.seen(&ins.text), l);
                }
            }
            _ => {}
        }
    }
    if let Some(last) = stages.len().checked_sub(1) {
        final_stage(&stages, last, &mut push);
    }
    out
}

fn final_stage(stages: &[Stage], last: usize, push: &mut impl FnMut(Finding, u32)) {
    let chain = || std::iter::successors(Some(last), |i| stages[*i].parent).map(|i| &stages[i]);
    match chain().find_map(|s| s.user.as_ref()) {
        None => push(
            USER_MISSING.seen("no USER instruction in the final stage"),
            stages[last].line,
        ),
        Some((u, l)) => {
            let name = u.split(':').next().unwrap_or(u);
            if name == "root" || name == "0" {
                push(USER_ROOT.seen(format!("USER {u}")), *l);
            }
        }
    }
    match chain().find_map(|s| s.healthcheck) {
        None => push(
            HEALTHCHECK_MISSING.seen("no HEALTHCHECK instruction"),
            stages[last].line,
        ),
        Some((false, l)) => push(HEALTHCHECK_MISSING.seen("HEALTHCHECK NONE"), l),
        Some((true, _)) => {}
    }
}

/// `$VAR`, `${VAR}` and `${VAR:-default}` from the ARGs before FROM.
fn expand(s: &str, args: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(p) = rest.find('$') {
        out.push_str(&rest[..p]);
        let r = &rest[p + 1..];
        let (name, default, used) = if let Some(b) = r.strip_prefix('{') {
            let end = b.find('}').unwrap_or(b.len());
            let inner = &b[..end];
            let (n, d) = inner.split_once(":-").unwrap_or((inner, ""));
            (n, d, end + 2)
        } else {
            let end = r
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(r.len());
            (&r[..end], "", end)
        };
        match args.get(name).filter(|v| !v.is_empty()) {
            Some(v) => out.push_str(v),
            None if !default.is_empty() => out.push_str(default),
            // Unknown: keep the reference (the image is then not judged).
            None => out.push_str(&rest[p..p + 1 + used.min(r.len())]),
        }
        rest = &r[used.min(r.len())..];
    }
    out.push_str(rest);
    out
}

/// The finding for a base image without a pinned version.
fn unpinned(image: &str) -> Option<Finding> {
    if image.is_empty()
        || image.contains('$')
        || image.eq_ignore_ascii_case("scratch")
        || image.contains('@')
    {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) => Some(FROM_LATEST.seen(format!("FROM {image}"))),
        Some(_) => None,
        None => Some(FROM_UNTAGGED.seen(format!("FROM {image}"))),
    }
}

fn add(ins: &Instruction, push: &mut impl FnMut(Finding, u32)) {
    let words = ins.words();
    let Some((_, sources)) = words.split_last() else {
        return;
    };
    let remote = |s: &str| {
        ["http://", "https://", "git://", "git@", "ssh://"]
            .iter()
            .any(|p| s.starts_with(p))
    };
    let (urls, local): (Vec<&String>, Vec<&String>) = sources
        .iter()
        .filter(|s| !s.starts_with("<<"))
        .partition(|s| remote(s));
    if !urls.is_empty() && ins.flag("checksum").is_none() {
        push(ADD_REMOTE.seen(&ins.text), ins.line);
    }
    if !local.is_empty() {
        let archive = local.iter().any(|s| {
            [
                ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst",
            ]
            .iter()
            .any(|x| s.to_ascii_lowercase().ends_with(x))
        });
        let seen = if archive {
            format!("{} (a local archive: ADD extracts it)", ins.text)
        } else {
            ins.text.clone()
        };
        push(ADD_LOCAL.seen(seen), ins.line);
    }
    chmod_flag(ins, push);
}

/// `COPY/ADD --chmod=MODE`.
fn chmod_flag(ins: &Instruction, push: &mut impl FnMut(Finding, u32)) {
    if let Some(m) = ins.flag("chmod") {
        if let Some(f) = mode_finding(m, &ins.text) {
            push(f, ins.line);
        }
    }
}

/// A world-writable or setuid/setgid mode (octal or symbolic).
fn mode_finding(mode: &str, seen: &str) -> Option<Finding> {
    if mode.chars().all(|c| c.is_ascii_digit()) && !mode.is_empty() {
        let v = u32::from_str_radix(mode, 8).ok()?;
        if v & 0o6000 != 0 {
            return Some(SETUID.seen(seen));
        }
        if v & 0o002 != 0 {
            return Some(WORLD_WRITABLE.seen(seen));
        }
        return None;
    }
    for clause in mode.split(',') {
        let Some(op) = clause.find(['+', '=']) else {
            continue;
        };
        let (who, perms) = clause.split_at(op);
        if perms.contains('s') {
            return Some(SETUID.seen(seen));
        }
        if perms.contains('w') && (who.contains('o') || who.contains('a')) {
            return Some(WORLD_WRITABLE.seen(seen));
        }
    }
    None
}

/// The shell text a RUN runs: shell form, `sh -c` of the exec form, and
/// heredoc bodies that are shell scripts.
fn run_script(ins: &Instruction) -> String {
    let mut s = match &ins.args {
        Args::Shell(s) => s.clone(),
        Args::Exec(v) => match v.iter().position(|a| a == "-c") {
            Some(i) => v.get(i + 1).cloned().unwrap_or_default(),
            None => v.join(" "),
        },
    };
    for h in &ins.heredocs {
        let interp = h
            .body
            .lines()
            .next()
            .filter(|l| l.starts_with("#!"))
            .unwrap_or("#!/bin/sh");
        if ["sh", "bash", "ash", "dash", "zsh"]
            .iter()
            .any(|x| interp.ends_with(x))
        {
            s.push('\n');
            s.push_str(&h.body);
        }
    }
    s
}

fn run(ins: &Instruction, push: &mut impl FnMut(Finding, u32)) {
    let script = run_script(ins);
    let cmds = shell::commands(&script);
    let l = ins.line;
    let prog = |c: &Command| c.program().map(str::to_string).unwrap_or_default();
    let shells = [
        "sh", "bash", "ash", "dash", "zsh", "ksh", "python", "python3", "perl", "ruby", "node",
    ];
    let fetch = |c: &Command| matches!(prog(c).as_str(), "curl" | "wget");
    let piped = cmds
        .windows(2)
        .any(|w| fetch(&w[0]) && w[1].piped && shells.contains(&prog(&w[1]).as_str()));
    let substituted = ["$(curl", "$(wget", "<(curl", "<(wget", "`curl", "`wget"]
        .iter()
        .any(|p| script.contains(p))
        && cmds.iter().any(|c| shells.contains(&prog(c).as_str()));
    if piped || substituted {
        push(CURL_PIPE_SHELL.seen(&ins.text), l);
    }
    let apt = |c: &Command, sub: &str| {
        matches!(prog(c).as_str(), "apt-get" | "apt" | "aptitude")
            && c.args_from_program().iter().any(|w| w == sub)
    };
    let installs: Vec<&Command> = cmds.iter().filter(|c| apt(c, "install")).collect();
    if cmds.iter().any(|c| apt(c, "update")) && installs.is_empty() {
        push(APT_UPDATE_ALONE.seen(&ins.text), l);
    }
    if installs.iter().any(|c| {
        !c.has_word("--no-install-recommends")
            && !c
                .words
                .iter()
                .any(|w| w.contains("Install-Recommends=false"))
    }) {
        push(APT_RECOMMENDS.seen(&ins.text), l);
    }
    let cleaned = cmds
        .iter()
        .any(|c| prog(c) == "rm" && c.words.iter().any(|w| w.starts_with("/var/lib/apt/lists")))
        || ins
            .flag("mount")
            .is_some_and(|m| m.contains("/var/lib/apt"));
    if !installs.is_empty() && !cleaned {
        push(APT_LISTS.seen(&ins.text), l);
    }
    if cmds.iter().any(|c| {
        c.words.iter().any(|w| w == "sudo" || w.ends_with("/sudo"))
            && c.words
                .first()
                .is_some_and(|w| w == "sudo" || w.ends_with("/sudo") || w.contains('='))
    }) {
        push(SUDO.seen(&ins.text), l);
    }
    let mut mode_hit = false;
    for c in cmds.iter().filter(|c| prog(c) == "chmod") {
        for w in c
            .args_from_program()
            .iter()
            .skip(1)
            .filter(|w| !w.starts_with('-'))
        {
            if let Some(f) = mode_finding(w, &ins.text) {
                if !mode_hit {
                    push(f, l);
                    mode_hit = true;
                }
            }
        }
    }
    let privileged = cmds.iter().any(|c| {
        let p = prog(c);
        matches!(
            p.as_str(),
            "modprobe" | "insmod" | "setcap" | "mount" | "iptables" | "nsenter"
        ) || (p == "sysctl" && c.words.iter().any(|w| w == "-w" || w.contains('=')))
    });
    if privileged {
        push(NEEDS_PRIVILEGES.seen(&ins.text), l);
    }
}

/// The secret-like names of ARG/ENV, and values that look like keys.
fn secrets(ins: &Instruction, push: &mut impl FnMut(Finding, u32)) {
    let words = ins.words();
    let pairs: Vec<(String, Option<String>)> = match words.first() {
        // `ENV KEY value with spaces` (legacy form).
        Some(w) if ins.keyword == "ENV" && !w.contains('=') => {
            vec![(w.clone(), Some(words[1..].join(" ")))]
        }
        _ => words
            .iter()
            .map(|w| match w.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (w.clone(), None),
            })
            .collect(),
    };
    for (name, value) in pairs {
        let v = value.unwrap_or_default();
        if looks_like_credential(&v) {
            push(
                SECRET_VALUE.seen(format!("{} {name}=<{} characters>", ins.keyword, v.len())),
                ins.line,
            );
        } else if secret_name(&name) && (ins.keyword == "ARG" || !v.is_empty()) {
            push(
                SECRET_NAME.seen(format!("{} {name}", ins.keyword)),
                ins.line,
            );
        }
    }
}

/// PASSWORD, TOKEN, SECRET, KEY, ... as a part of the name; not public
/// keys, key servers or paths to a secret file.
pub(crate) fn secret_name(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    let parts: Vec<&str> = up.split(['_', '-', '.']).collect();
    let secret = [
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PASSPHRASE",
        "TOKEN",
        "SECRET",
        "APIKEY",
        "KEY",
        "CREDENTIALS",
        "CREDENTIAL",
        "PRIVATE",
    ];
    let benign = [
        "PUBLIC",
        "PUB",
        "GPG",
        "PGP",
        "KEYRING",
        "KEYSERVER",
        "KEYS",
        "FILE",
        "PATH",
        "DIR",
        "URL",
        "ID",
        "FINGERPRINT",
    ];
    parts.iter().any(|p| secret.contains(p)) && !parts.iter().any(|p| benign.contains(p))
}

/// Well-known credential formats: AWS access keys, PEM private keys,
/// GitHub, GitLab, Slack, Stripe and Google API tokens.
pub(crate) fn looks_like_credential(v: &str) -> bool {
    let alnum =
        |s: &str, n: usize| s.len() >= n && s.chars().take(n).all(|c| c.is_ascii_alphanumeric());
    if v.contains("PRIVATE KEY-----") {
        return true;
    }
    let prefixed = [
        ("AKIA", 16),
        ("ASIA", 16),
        ("ghp_", 30),
        ("gho_", 30),
        ("ghs_", 30),
        ("github_pat_", 30),
        ("glpat-", 20),
        ("sk_live_", 20),
        ("AIza", 30),
    ];
    prefixed.iter().any(|(p, n)| {
        v.match_indices(p).any(|(i, _)| {
            let rest = &v[i + p.len()..];
            alnum(&rest.replace(['_', '-'], "a"), *n)
                && (*p != "AKIA" && *p != "ASIA"
                    || rest[..16]
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
        })
    }) || ["xoxb-", "xoxp-", "xoxa-"].iter().any(|p| v.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<(String, u32)> {
        let mut v: Vec<(String, u32)> = check(Path::new("Dockerfile"), text)
            .into_iter()
            .map(|f| (f.id, f.line.unwrap_or(0)))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn names_and_values() {
        assert!(secret_name("DB_PASSWORD"));
        assert!(secret_name("api-key"));
        assert!(secret_name("GITHUB_TOKEN"));
        assert!(!secret_name("GPG_KEY"));
        assert!(!secret_name("POSTGRES_PASSWORD_FILE"));
        assert!(!secret_name("KEYBOARD"));
        assert!(!secret_name("PWD"));
        assert!(looks_like_credential("AKIAIOSFODNN7EXAMPLE"));
        assert!(looks_like_credential(
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
        ));
        assert!(!looks_like_credential("AKIA-not"));
        assert!(!looks_like_credential("/usr/local/bin"));
    }

    #[test]
    fn stages_and_args_before_from() {
        let t = "ARG BASE=debian:12\nFROM ${BASE} AS build\nRUN make\nFROM build\nUSER 10001\nHEALTHCHECK CMD true\n";
        assert_eq!(ids(t), Vec::<(String, u32)>::new());
        let t = "ARG V\nFROM alpine:$V\nFROM alpine\nUSER root:root\n";
        assert_eq!(
            ids(t),
            [
                ("dockerfile.from-untagged".to_string(), 3),
                ("dockerfile.healthcheck-missing".to_string(), 3),
                ("dockerfile.user-root".to_string(), 4)
            ]
        );
    }

    #[test]
    fn modes() {
        assert_eq!(
            mode_finding("4755", "x").map(|f| f.id),
            Some("dockerfile.setuid".into())
        );
        assert_eq!(
            mode_finding("u+s", "x").map(|f| f.id),
            Some("dockerfile.setuid".into())
        );
        assert_eq!(
            mode_finding("777", "x").map(|f| f.id),
            Some("dockerfile.world-writable".into())
        );
        assert_eq!(
            mode_finding("a+rwX", "x").map(|f| f.id),
            Some("dockerfile.world-writable".into())
        );
        assert_eq!(mode_finding("755", "x"), None);
        assert_eq!(mode_finding("u+x,go-w", "x"), None);
    }
}
