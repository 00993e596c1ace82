use super::*;

const MIN: &str =
    r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["/bin/true"],"cwd":"/"}}"#;

fn with(f: impl FnOnce(&mut serde_json::Value)) -> Result<Spec, Error> {
    let mut v: serde_json::Value = serde_json::from_str(MIN).expect("fixture");
    f(&mut v);
    let spec = parse(v.to_string().as_bytes())?;
    validate::validate(&spec, true)?;
    Ok(spec)
}

fn err_text(r: Result<Spec, Error>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn minimal_config_is_valid() {
    assert!(with(|_| {}).is_ok());
}

#[test]
fn malformed_json_names_position() {
    let e = parse(b"{\"ociVersion\": ")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("config.json"), "{e}");
}

#[test]
fn unknown_namespace_names_the_field() {
    let e =
        err_text(with(
            |v| v["linux"] = serde_json::json!({"namespaces":[{"type":"pid"},{"type":"bogus"}]}),
        ));
    assert!(
        e.contains("linux.namespaces[1].type") && e.contains("bogus"),
        "{e}"
    );
}

#[test]
fn relative_cwd_and_traversing_mount_destination_are_refused() {
    let e = err_text(with(|v| v["process"]["cwd"] = "tmp".into()));
    assert!(e.contains("process.cwd"), "{e}");
    assert!(
        with(|v| v["mounts"] = serde_json::json!([{"destination":"proc","type":"proc"}])).is_ok()
    );
    let e = err_text(with(|v| {
        v["mounts"] = serde_json::json!([{"destination":"/a/../../x","type":"tmpfs"}])
    }));
    assert!(e.contains("mounts[0].destination"), "{e}");
}

#[test]
fn host_sysctls_are_refused() {
    let e = err_text(with(|v| {
        v["linux"] = serde_json::json!({"sysctl":{"kernel.panic":"1"}})
    }));
    assert!(e.contains("not namespaced"), "{e}");
    let e = err_text(with(|v| {
        v["linux"] = serde_json::json!({"sysctl":{"net.ipv4.ip_forward":"1"}})
    }));
    assert!(e.contains("network namespace"), "{e}");
    assert!(with(|v| v["linux"] = serde_json::json!({"namespaces":[{"type":"network"}],"sysctl":{"net.ipv4.ip_forward":"1"}}))
        .is_ok());
    let e = err_text(with(
        |v| {
            v["linux"] =
                serde_json::json!({"namespaces":[{"type":"network"}],"sysctl":{"net.../x":"1"}})
        },
    ));
    assert!(e.contains("valid sysctl"), "{e}");
}

#[test]
fn userns_needs_mappings_and_mappings_need_userns() {
    let e = err_text(with(|v| {
        v["linux"] = serde_json::json!({"namespaces":[{"type":"user"}]})
    }));
    assert!(e.contains("uidMappings"), "{e}");
    let e = err_text(with(|v| {
        v["linux"] = serde_json::json!({"uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
                                         "gidMappings":[{"containerID":0,"hostID":1000,"size":1}]})
    }));
    assert!(e.contains("no new user namespace"), "{e}");
}

#[test]
fn unknown_capability_and_rlimit_are_refused() {
    let e = err_text(with(|v| {
        v["process"]["capabilities"] = serde_json::json!({"bounding":["CAP_CHOWN","CAP_FLY"]})
    }));
    assert!(e.contains("process.capabilities.bounding[1]"), "{e}");
    let e = err_text(with(|v| {
        v["process"]["rlimits"] = serde_json::json!([{"type":"RLIMIT_BOGUS","hard":1,"soft":1}])
    }));
    assert!(e.contains("rlimits[0].type"), "{e}");
}

#[test]
fn hostname_needs_uts() {
    let e = err_text(with(|v| v["hostname"] = "box".into()));
    assert!(e.contains("hostname"), "{e}");
}

#[test]
fn cgroups_path_traversal_is_refused() {
    let e = err_text(with(|v| {
        v["linux"] = serde_json::json!({"cgroupsPath":"/a/../../b"})
    }));
    assert!(e.contains("linux.cgroupsPath"), "{e}");
}

#[test]
fn capability_numbers() {
    assert_eq!(caps::number("CAP_SYS_ADMIN"), Some(21));
    assert_eq!(caps::number("net_raw"), Some(13));
    assert_eq!(caps::number("CAP_CHECKPOINT_RESTORE"), Some(40));
    assert_eq!(caps::number("CAP_NOPE"), None);
}

#[test]
fn docker_default_capabilities_match_the_reference() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/reference/docker-default-capabilities.txt"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("SKIP: {path} not found");
        return;
    };
    let mut want: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut have = caps::DOCKER_DEFAULT.to_vec();
    want.sort_unstable();
    have.sort_unstable();
    assert_eq!(have, want);
}

/// The error text of a config changed by `f`, or "" when it is accepted.
fn outcome(f: impl FnOnce(&mut serde_json::Value)) -> String {
    with(f).err().map(|e| e.to_string()).unwrap_or_default()
}

/// Asserts that the config changed by `f` is refused naming `field`.
#[track_caller]
fn refused(field: &str, f: impl FnOnce(&mut serde_json::Value)) {
    let e = outcome(f);
    assert!(
        e.starts_with(&format!("config.json: {field}: ")),
        "want an error naming {field}, got {e:?}"
    );
}

#[track_caller]
fn accepted(f: impl FnOnce(&mut serde_json::Value)) {
    let e = outcome(f);
    assert!(e.is_empty(), "want accepted, got {e:?}");
}

#[test]
fn version_root_and_process_are_required() {
    refused("ociVersion", |v| v["ociVersion"] = "2.0.0".into());
    accepted(|v| v["ociVersion"] = "1.2.0".into());
    refused("root.path", |v| v["root"] = serde_json::Value::Null);
    refused("root.path", |v| v["root"]["path"] = "".into());
    refused("root.path", |v| v["root"]["path"] = "root\0fs".into());
    refused("process", |v| v["process"] = serde_json::Value::Null);
    // state/delete/kill read a config without a process.
    let mut v: serde_json::Value = serde_json::from_str(MIN).expect("fixture");
    v["process"] = serde_json::Value::Null;
    let spec = parse(v.to_string().as_bytes()).expect("parses");
    assert!(validate::validate(&spec, false).is_ok());
    assert!(validate::validate(&spec, true).is_err());
}

#[test]
fn process_args_cwd_env_and_umask() {
    refused("process.args", |v| {
        v["process"]["args"] = serde_json::json!([])
    });
    refused("process.args", |v| {
        v["process"]["args"] = serde_json::json!([""])
    });
    refused("process.cwd", |v| v["process"]["cwd"] = "/a\0b".into());
    for bad in ["NOEQUALS", "=x", "A=b\0c"] {
        refused("process.env[1]", |v| {
            v["process"]["env"] = serde_json::json!(["OK=1", bad])
        });
    }
    accepted(|v| v["process"]["env"] = serde_json::json!(["A=", "B=c=d"]));
    accepted(|v| v["process"]["user"] = serde_json::json!({"umask": 0o777}));
    refused("process.user.umask", |v| {
        v["process"]["user"] = serde_json::json!({"umask": 0o1000})
    });
}

#[test]
fn rlimits_are_checked() {
    let rl = |kind: &str, soft: u64, hard: u64| serde_json::json!({"type": kind, "soft": soft, "hard": hard});
    accepted(|v| {
        v["process"]["rlimits"] =
            serde_json::json!([rl("RLIMIT_NOFILE", 5, 5), rl("RLIMIT_CORE", 0, 1)])
    });
    refused("process.rlimits[0]", |v| {
        v["process"]["rlimits"] = serde_json::json!([rl("RLIMIT_NOFILE", 6, 5)])
    });
    refused("process.rlimits[1].type", |v| {
        v["process"]["rlimits"] =
            serde_json::json!([rl("RLIMIT_NOFILE", 1, 5), rl("RLIMIT_NOFILE", 1, 5)])
    });
    assert_eq!(rlimit_number("RLIMIT_CPU"), Some(0));
    assert_eq!(rlimit_number("RLIMIT_NOFILE"), Some(7));
    assert_eq!(rlimit_number("RLIMIT_RTTIME"), Some(15));
    assert_eq!(rlimit_number("nofile"), None);
}

#[test]
fn every_capability_set_is_checked() {
    for set in [
        "bounding",
        "effective",
        "inheritable",
        "permitted",
        "ambient",
    ] {
        refused(&format!("process.capabilities.{set}[0]"), |v| {
            v["process"]["capabilities"] = serde_json::json!({ set: ["CAP_FLY"] })
        });
        accepted(|v| {
            v["process"]["capabilities"] = serde_json::json!({ set: ["CAP_CHOWN", "kill"] })
        });
    }
}

#[test]
fn capability_masks() {
    let names = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(caps::mask(&names(&[])), 0);
    assert_eq!(caps::mask(&names(&["CAP_CHOWN"])), 1);
    assert_eq!(
        caps::mask(&names(&["CAP_KILL", "sys_admin", "CAP_NOPE"])),
        (1 << 5) | (1 << 21)
    );
    assert_eq!(caps::mask(&names(&["CAP_CHECKPOINT_RESTORE"])), 1 << 40);
    // A capability named twice is still in the mask.
    assert_eq!(caps::mask(&names(&["CAP_KILL", "kill"])), 1 << 5);
    assert_eq!(caps::number("cap_chown"), Some(0));
    assert_eq!(caps::number("chown"), Some(0));
    assert_eq!(caps::number("CAPCHOWN"), None);
}

#[test]
fn mounts_over_the_root_must_be_binds() {
    refused("mounts[0].destination", |v| {
        v["mounts"] = serde_json::json!([{"destination": "/", "type": "tmpfs"}])
    });
    refused("mounts[0].destination", |v| {
        v["mounts"] = serde_json::json!([{"destination": "//", "options": ["ro"]}])
    });
    accepted(|v| v["mounts"] = serde_json::json!([{"destination": "/", "type": "bind"}]));
    for o in ["bind", "rbind"] {
        accepted(|v| {
            v["mounts"] =
                serde_json::json!([{"destination": "/", "type": "none", "options": ["ro", o]}])
        });
    }
    accepted(|v| v["mounts"] = serde_json::json!([{"destination": "/tmp", "type": "tmpfs"}]));
    refused("mounts[1].destination", |v| {
        v["mounts"] = serde_json::json!([{"destination": "/ok", "type": "tmpfs"},
                                         {"destination": "/a\0b", "type": "tmpfs"}])
    });
    refused("mounts[0].destination", |v| {
        v["mounts"] = serde_json::json!([{"destination": "/..", "type": "bind"}])
    });
    accepted(|v| v["mounts"] = serde_json::json!([{"destination": "/a..b/..c", "type": "tmpfs"}]));
}

#[test]
fn hostname_and_domainname_need_their_own_uts() {
    accepted(|v| {
        v["hostname"] = "box".into();
        v["domainname"] = "example".into();
        v["linux"] = serde_json::json!({"namespaces": [{"type": "uts"}]});
    });
    accepted(|v| {
        v["hostname"] = "".into();
        v["domainname"] = "".into();
    });
    refused("domainname", |v| v["domainname"] = "example".into());
}

#[test]
fn namespaces_are_checked() {
    refused(
        "linux.namespaces[2]",
        |v| {
            v["linux"] = serde_json::json!({"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "pid"}]})
        },
    );
    refused(
        "linux.namespaces[1].path",
        |v| v["linux"] = serde_json::json!({"namespaces": [{"type": "pid"}, {"type": "ipc", "path": "proc/1/ns/ipc"}]}),
    );
    accepted(|v| {
        v["linux"] = serde_json::json!({"namespaces": [{"type": "ipc", "path": "/proc/1/ns/ipc"}]})
    });
}

#[test]
fn user_namespace_mappings() {
    let m =
        |c: u32, h: u32, s: u32| serde_json::json!([{"containerID": c, "hostID": h, "size": s}]);
    // Joining a user namespace needs no mappings.
    accepted(|v| {
        v["linux"] =
            serde_json::json!({"namespaces": [{"type": "user", "path": "/proc/1/ns/user"}]})
    });
    accepted(|v| {
        v["linux"] = serde_json::json!({"namespaces": [{"type": "user"}],
            "uidMappings": m(0, 1000, 1), "gidMappings": m(0, 1000, 1)})
    });
    for only in ["uidMappings", "gidMappings"] {
        refused(
            "linux.uidMappings",
            |v| {
                v["linux"] =
                    serde_json::json!({"namespaces": [{"type": "user"}], only: m(0, 1000, 1)})
            },
        );
        refused("linux.uidMappings", |v| {
            v["linux"] = serde_json::json!({ only: m(0, 1000, 1) })
        });
    }
    refused("linux.uidMappings", |v| {
        v["linux"] = serde_json::json!({"namespaces": [{"type": "user", "path": "/proc/1/ns/user"}],
            "uidMappings": m(0, 1000, 1), "gidMappings": m(0, 1000, 1)})
    });
    for (uid, gid, field) in [
        (m(0, 1000, 0), m(0, 1000, 1), "linux.uidMappings[0]"),
        (m(0, 1000, 1), m(u32::MAX, 1000, 2), "linux.gidMappings[0]"),
        (m(0, u32::MAX, 2), m(0, 1000, 1), "linux.uidMappings[0]"),
    ] {
        refused(field, |v| {
            v["linux"] = serde_json::json!({"namespaces": [{"type": "user"}],
                "uidMappings": uid, "gidMappings": gid})
        });
    }
    // The largest ranges that do not overflow.
    accepted(|v| {
        v["linux"] = serde_json::json!({"namespaces": [{"type": "user"}],
            "uidMappings": m(u32::MAX - 1, 0, 1), "gidMappings": m(0, u32::MAX - 1, 1)})
    });
}

/// runc (since 1.1) accepts `/` as the separator: the same sysctl, the
/// same checks, the same namespaces.
#[test]
fn slash_separated_sysctls_are_the_dotted_ones() {
    assert!(with(|v| v["linux"] = serde_json::json!({"namespaces":[{"type":"network"}],"sysctl":{"net/ipv4/ip_forward":"1"}}))
        .is_ok());
    assert!(with(|v| v["linux"] = serde_json::json!({"namespaces":[{"type":"ipc"}],"sysctl":{"fs/mqueue/queues_max":"8"}}))
        .is_ok());
    let e = err_text(with(|v| {
        v["linux"] = serde_json::json!({"sysctl":{"kernel/panic":"1"}})
    }));
    assert!(e.contains("not namespaced"), "{e}");
    let e = err_text(with(|v| {
        v["linux"] = serde_json::json!({"sysctl":{"net/ipv4/ip_forward":"1"}})
    }));
    assert!(e.contains("network namespace"), "{e}");
    let e = err_text(with(
        |v| v["linux"] = serde_json::json!({"namespaces":[{"type":"network"}],"sysctl":{"net/../kernel/panic":"1"}}),
    ));
    assert!(e.contains("not a valid sysctl name"), "{e}");
}

#[test]
fn namespaced_sysctls_need_the_containers_own_namespace() {
    for (key, ns) in [
        ("kernel.msgmax", "ipc"),
        ("kernel.shm_rmid_forced", "ipc"),
        ("fs.mqueue.queues_max", "ipc"),
        ("kernel.hostname", "uts"),
        ("kernel.domainname", "uts"),
        ("net.core.somaxconn", "network"),
    ] {
        let field = format!("linux.sysctl.{key}");
        accepted(|v| {
            v["linux"] = serde_json::json!({"namespaces": [{"type": ns}], "sysctl": {key: "1"}})
        });
        let e = outcome(|v| v["linux"] = serde_json::json!({"sysctl": {key: "1"}}));
        assert!(
            e.contains(&field) && e.contains(&format!("own {ns} namespace")),
            "{key}: {e}"
        );
        // A joined namespace is shared with someone else; only the network
        // namespace may be joined (as runc allows).
        let joined = outcome(|v| {
            v["linux"] = serde_json::json!({"namespaces": [{"type": ns, "path": "/proc/1/ns/x"}],
                "sysctl": {key: "1"}})
        });
        assert_eq!(joined.is_empty(), ns == "network", "{key}: {joined}");
    }
    for key in ["", "net..x", "net.", ".net", "net/../kernel", "net.a\0b"] {
        refused(
            &format!("linux.sysctl.{key}"),
            |v| {
                v["linux"] =
                    serde_json::json!({"namespaces": [{"type": "network"}], "sysctl": {key: "1"}})
            },
        );
    }
    use crate::NamespaceType as N;
    assert_eq!(validate::sysctl_namespace("kernel.msgmnb"), Some(N::Ipc));
    assert_eq!(validate::sysctl_namespace("kernel.sem"), Some(N::Ipc));
    assert_eq!(validate::sysctl_namespace("kernel.shmmax"), Some(N::Ipc));
    assert_eq!(validate::sysctl_namespace("kernel.msgmni"), Some(N::Ipc));
    assert_eq!(validate::sysctl_namespace("kernel.shmall"), Some(N::Ipc));
    assert_eq!(validate::sysctl_namespace("kernel.shmmni"), Some(N::Ipc));
    assert_eq!(validate::sysctl_namespace("kernel.hostnam"), None);
    assert_eq!(validate::sysctl_namespace("fs.mqueue"), None);
    assert_eq!(validate::sysctl_namespace("vm.net.x"), None);
}

#[test]
fn devices_are_checked() {
    for kind in ["c", "b", "u", "p"] {
        accepted(
            |v| v["linux"] = serde_json::json!({"devices": [{"path": "/dev/x", "type": kind, "major": 0, "minor": 0}]}),
        );
    }
    let dev = |path: &str, kind: &str, major: i64, minor: i64| {
        serde_json::json!({"devices": [{"path": "/dev/ok", "type": "c", "major": 1, "minor": 3},
            {"path": path, "type": kind, "major": major, "minor": minor}]})
    };
    refused("linux.devices[1].path", |v| {
        v["linux"] = dev("dev/x", "c", 1, 1)
    });
    refused("linux.devices[1].path", |v| {
        v["linux"] = dev("/dev/\0", "c", 1, 1)
    });
    refused("linux.devices[1].type", |v| {
        v["linux"] = dev("/dev/x", "a", 1, 1)
    });
    refused("linux.devices[1]", |v| {
        v["linux"] = dev("/dev/x", "c", -1, 1)
    });
    refused("linux.devices[1]", |v| {
        v["linux"] = dev("/dev/x", "c", 1, -1)
    });
}

#[test]
fn masked_and_readonly_paths_are_absolute() {
    refused("linux.maskedPaths[1]", |v| {
        v["linux"] = serde_json::json!({"maskedPaths": ["/proc/kcore", "proc/x"]})
    });
    refused(
        "linux.readonlyPaths[0]",
        |v| {
            v["linux"] =
                serde_json::json!({"maskedPaths": ["/proc/kcore"], "readonlyPaths": ["sys"]})
        },
    );
    accepted(|v| {
        v["linux"] = serde_json::json!({"maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/sys"]})
    });
}

#[test]
fn propagation_and_unsupported_fields() {
    for p in [
        "shared",
        "slave",
        "private",
        "unbindable",
        "rshared",
        "rslave",
        "rprivate",
        "runbindable",
        "",
    ] {
        accepted(|v| v["linux"] = serde_json::json!({ "rootfsPropagation": p }));
    }
    refused("linux.rootfsPropagation", |v| {
        v["linux"] = serde_json::json!({"rootfsPropagation": "rshare"})
    });
    refused("linux.intelRdt", |v| {
        v["linux"] = serde_json::json!({"intelRdt": {"closID": "x"}})
    });
    refused("linux.personality", |v| {
        v["linux"] = serde_json::json!({"personality": {"domain": "LINUX32"}})
    });
    accepted(|v| v["linux"] = serde_json::json!({"cgroupsPath": "/a/b..c"}));
    refused("linux.cgroupsPath", |v| {
        v["linux"] = serde_json::json!({"cgroupsPath": "/a\0b"})
    });
}

#[test]
fn time_offsets_need_a_time_namespace() {
    let offs = serde_json::json!({"monotonic": {"secs": 10}});
    refused("linux.timeOffsets", |v| {
        v["linux"] = serde_json::json!({ "timeOffsets": offs })
    });
    accepted(|v| {
        v["linux"] = serde_json::json!({"timeOffsets": offs, "namespaces": [{"type": "time"}]})
    });
    accepted(|v| v["linux"] = serde_json::json!({"timeOffsets": {}}));
}

#[test]
fn hooks_are_checked_in_every_stage() {
    for stage in [
        "prestart",
        "createRuntime",
        "createContainer",
        "startContainer",
        "poststart",
        "poststop",
    ] {
        accepted(|v| {
            v["hooks"] = serde_json::json!({ stage: [{"path": "/bin/hook", "timeout": 1}] })
        });
        refused(
            &format!("hooks.{stage}[1].path"),
            |v| {
                v["hooks"] = serde_json::json!({ stage: [{"path": "/bin/hook"}, {"path": "hook"}] })
            },
        );
        refused(
            &format!("hooks.{stage}[0].timeout"),
            |v| v["hooks"] = serde_json::json!({ stage: [{"path": "/bin/hook", "timeout": 0}] }),
        );
    }
}

#[test]
fn landlock_annotations_are_validated_with_the_config() {
    let e = outcome(|v| v["annotations"] = serde_json::json!({"run.ward.landlock.mode": "bogus"}));
    assert!(e.contains("run.ward.landlock.mode"), "{e}");
}

#[test]
fn namespace_flags_and_names() {
    use crate::NamespaceType as N;
    // CLONE_NEW* from <linux/sched.h>, /proc/PID/ns names, OCI names.
    for (kind, flag, proc_name, oci) in [
        (N::Pid, 0x2000_0000, "pid", "pid"),
        (N::Network, 0x4000_0000, "net", "network"),
        (N::Mount, 0x0002_0000, "mnt", "mount"),
        (N::Ipc, 0x0800_0000, "ipc", "ipc"),
        (N::Uts, 0x0400_0000, "uts", "uts"),
        (N::User, 0x1000_0000, "user", "user"),
        (N::Cgroup, 0x0200_0000, "cgroup", "cgroup"),
        (N::Time, 0x0000_0080, "time", "time"),
    ] {
        assert_eq!(kind.clone_flag(), flag, "{oci}");
        assert_eq!(kind.proc_name(), proc_name, "{oci}");
        assert_eq!(kind.oci_name(), oci, "{oci}");
        let json = serde_json::to_value(kind).expect("serializes");
        assert_eq!(json, serde_json::Value::from(oci));
    }
}

#[test]
fn namespace_lookup() {
    let spec = with(|v| {
        v["linux"] = serde_json::json!({"namespaces": [{"type": "pid"},
            {"type": "network", "path": "/proc/1/ns/net"}]})
    })
    .expect("valid");
    assert!(spec.has_namespace(NamespaceType::Pid));
    assert!(spec.has_namespace(NamespaceType::Network));
    assert!(!spec.has_namespace(NamespaceType::Ipc));
    assert_eq!(
        spec.namespace(NamespaceType::Network)
            .and_then(|n| n.path.as_deref()),
        Some("/proc/1/ns/net")
    );
    assert!(spec.namespace(NamespaceType::Uts).is_none());
    let no_linux = with(|_| {}).expect("valid");
    assert!(!no_linux.has_namespace(NamespaceType::Pid));
}

#[test]
fn false_flags_are_left_out_when_serialized() {
    let spec = with(|_| {}).expect("valid");
    let out = serde_json::to_value(&spec).expect("serializes");
    assert!(out["process"].get("terminal").is_none(), "{out}");
    assert!(out["process"].get("noNewPrivileges").is_none(), "{out}");
    assert!(out["root"].get("readonly").is_none(), "{out}");
    let spec = with(|v| {
        v["process"]["terminal"] = true.into();
        v["root"]["readonly"] = true.into();
    })
    .expect("valid");
    let out = serde_json::to_value(&spec).expect("serializes");
    assert_eq!(out["process"]["terminal"], true, "{out}");
    assert_eq!(out["root"]["readonly"], true, "{out}");
}

#[test]
fn exec_process_parses_and_names_bad_fields() {
    let p = parse_process(br#"{"args":["/bin/sh","-c","true"],"cwd":"/tmp","env":["A=1"]}"#)
        .expect("parses");
    assert_eq!(p.args, ["/bin/sh", "-c", "true"]);
    assert_eq!(p.cwd, "/tmp");
    assert!(validate::validate_process(&p, "process").is_ok());
    let e = parse_process(br#"{"args":["/bin/sh"],"cwd":7}"#)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.starts_with("config.json: cwd: "), "{e}");
    let p = parse_process(br#"{"args":[],"cwd":"/"}"#).expect("parses");
    let e = validate::validate_process(&p, "exec")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.starts_with("config.json: exec.args: "), "{e}");
}

#[test]
fn notify_is_seen_in_the_default_and_in_rules() {
    use crate::seccomp::{Action, LinuxSeccomp, Syscall};
    assert!(!LinuxSeccomp::new(Action::Errno).uses_notify());
    assert!(LinuxSeccomp::new(Action::Notify).uses_notify());
    let mut p = LinuxSeccomp::new(Action::Allow);
    p.syscalls.push(Syscall::new(["getpid"], Action::Errno));
    assert!(!p.uses_notify());
    p.syscalls.push(Syscall::new(["mkdir"], Action::Notify));
    assert!(p.uses_notify());
}

#[test]
fn value_two_is_written_only_when_set() {
    use crate::seccomp::{Arg, Operator};
    let plain = serde_json::to_value(Arg::new(1, Operator::Eq, 5)).expect("serializes");
    assert_eq!(
        plain,
        serde_json::json!({"index": 1, "value": 5, "op": "SCMP_CMP_EQ"})
    );
    let masked = serde_json::to_value(Arg::masked_eq(0, 0xff, 3)).expect("serializes");
    assert_eq!(
        masked,
        serde_json::json!({"index": 0, "value": 255, "valueTwo": 3, "op": "SCMP_CMP_MASKED_EQ"})
    );
}
