//! The systemd cgroup driver (`--systemd-cgroup`), with runc's semantics.
//!
//! On a systemd host, systemd owns the cgroup tree: a runtime that makes
//! directories behind its back gets them moved or reset. So the container
//! gets a transient scope unit (`StartTransientUnit` over D-Bus,
//! `Delegate=yes`, the init's pid in `PIDs`), with the limits systemd can
//! express as unit properties; then the cgroupfs driver writes the rest in
//! the scope's own directory (systemd's `ControlGroup`), so freeze, kill,
//! stats, devices and `update` work on that directory as they do without
//! systemd. `delete` stops the unit (systemd removes the directory).
//!
//! `linux.cgroupsPath` is `slice:prefix:name` → unit `prefix-name.scope`
//! in `slice` (default `system.slice`, `user.slice` rootless; empty
//! prefix → `name.scope`; no cgroupsPath → `ward-<id>.scope`).
//!
//! Threats: a cgroupsPath that names another unit's place (slashes, `..`,
//! characters systemd would escape): refused, naming cgroupsPath; stopping
//! a unit that is not ours: `destroy` stops the unit only once this
//! manager started it (or it was restored from the container's state).

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ward_spec::resources::LinuxResources;

use super::dbus::{BusError, Conn, Value};
use super::unit::{parse_scope, resource_properties, unit_chars_ok};
use crate::error::{Error, Result};
use crate::manager::FsManager;
use crate::mounts::Layout;
use crate::stats::Stats;
use crate::{CgroupSpec, CgroupState, Manager, SystemdUnit};

const DEST: &str = "org.freedesktop.systemd1";
const OBJ: &str = "/org/freedesktop/systemd1";
const MGR: &str = "org.freedesktop.systemd1.Manager";
const PROPS: &str = "org.freedesktop.DBus.Properties";
/// How long systemd gets to start or stop the scope (runc waits 30s too).
const JOB_TIMEOUT: Duration = Duration::from_secs(30);
const CALL_TIMEOUT: Duration = Duration::from_secs(25);

fn sd_err(msg: impl Into<String>) -> Error {
    Error::Systemd(msg.into())
}

fn bus_path(env: &str) -> Option<PathBuf> {
    let v = std::env::var(env).ok()?;
    v.split(';')
        .filter_map(|a| a.strip_prefix("unix:"))
        .flat_map(|a| a.split(','))
        .find_map(|kv| kv.strip_prefix("path="))
        .map(PathBuf::from)
}

/// Connects to systemd: the system bus, else systemd's private socket
/// (root only); rootless: the user's session bus, else the user manager's
/// private socket.
fn connect(user: bool) -> Result<Conn> {
    let mut cands: Vec<(PathBuf, bool)> = Vec::new();
    if user {
        let rt = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(format!("/run/user/{}", nix::unistd::geteuid())));
        cands.push((
            bus_path("DBUS_SESSION_BUS_ADDRESS").unwrap_or_else(|| rt.join("bus")),
            true,
        ));
        cands.push((rt.join("systemd/private"), false));
    } else {
        cands.push((
            bus_path("DBUS_SYSTEM_BUS_ADDRESS")
                .unwrap_or_else(|| PathBuf::from("/run/dbus/system_bus_socket")),
            true,
        ));
        cands.push((PathBuf::from("/run/systemd/private"), false));
    }
    let mut why = Vec::new();
    for (path, bus) in cands {
        match Conn::connect(&path, bus, CALL_TIMEOUT) {
            Ok(mut c) => {
                subscribe(&mut c)?;
                return Ok(c);
            }
            Err(e) => why.push(format!("{}: {e}", path.display())),
        }
    }
    let running = if Path::new("/run/systemd/system").is_dir() {
        ""
    } else {
        "systemd is not running (no /run/systemd/system); "
    };
    Err(sd_err(format!(
        "{running}cannot reach {} ({}): drop --systemd-cgroup to use the cgroupfs driver",
        if user {
            "the user's systemd instance"
        } else {
            "systemd"
        },
        why.join("; ")
    )))
}

fn subscribe(c: &mut Conn) -> Result<()> {
    let e = |e: BusError| sd_err(format!("subscribing to systemd's job signals: {e}"));
    if c.bus {
        c.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "AddMatch",
            vec![Value::Str(
                "type='signal',sender='org.freedesktop.systemd1',interface='org.freedesktop.systemd1.Manager',member='JobRemoved',path='/org/freedesktop/systemd1'".into(),
            )],
        )
        .map_err(e)?;
    }
    c.call(DEST, OBJ, MGR, "Subscribe", vec![]).map_err(e)?;
    Ok(())
}

fn get_prop(
    c: &mut Conn,
    path: &str,
    iface: &str,
    name: &str,
) -> std::result::Result<Value, BusError> {
    let body = c.call(
        DEST,
        path,
        PROPS,
        "Get",
        vec![Value::Str(iface.into()), Value::Str(name.into())],
    )?;
    match body.into_iter().next() {
        Some(Value::Variant(v)) => Ok(*v),
        other => Err(BusError::Io(format!(
            "unexpected reply to Get {name}: {other:?}"
        ))),
    }
}

/// Runs a job-returning Manager method and waits for systemd's JobRemoved.
fn run_job(
    c: &mut Conn,
    method: &str,
    args: Vec<Value>,
    unit: &str,
) -> std::result::Result<(), BusError> {
    let body = c.call(DEST, OBJ, MGR, method, args)?;
    let job = body
        .first()
        .and_then(Value::as_str)
        .ok_or_else(|| BusError::Io(format!("{method} returned no job")))?
        .to_string();
    let m = c.wait_signal(
        |m| {
            m.member.as_deref() == Some("JobRemoved")
                && m.body.get(1).and_then(Value::as_str) == Some(job.as_str())
        },
        JOB_TIMEOUT,
    )?;
    let result = m.body.get(3).and_then(Value::as_str).unwrap_or("");
    if result == "done" {
        Ok(())
    } else {
        Err(BusError::Io(format!(
            "the {method} job for {unit} ended with {result:?} (see: journalctl -u {unit})"
        )))
    }
}

#[derive(Default)]
struct Inner {
    conn: Option<Conn>,
    /// The limits of `apply`, for the unit properties at start.
    resources: Option<LinuxResources>,
    /// The unit exists and is ours (started here, or restored).
    started: bool,
}

/// The systemd driver: a transient scope plus the cgroupfs driver in its
/// directory.
pub struct SystemdManager {
    fs: FsManager,
    unit: String,
    slice: String,
    description: String,
    user: bool,
    /// The scope's expected cgroup (relative to the hierarchy roots).
    cgroup: String,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for SystemdManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemdManager")
            .field("unit", &self.unit)
            .field("cgroup", &self.cgroup)
            .field("fs", &self.fs)
            .finish()
    }
}

impl SystemdManager {
    /// Connects to systemd (a clear error if it cannot) and resolves the
    /// scope's directory; creates nothing.
    pub(crate) fn new(spec: &CgroupSpec<'_>, layout: Layout) -> Result<SystemdManager> {
        let name = parse_scope(spec.cgroups_path, spec.id, spec.rootless)?;
        let mut conn = connect(spec.rootless)?;
        // The manager's own cgroup: "" or "/" for the system instance, the
        // user@.service cgroup for a user instance.
        let root = get_prop(&mut conn, OBJ, MGR, "ControlGroup")
            .map_err(|e| sd_err(format!("asking systemd for its ControlGroup: {e}")))?;
        let root = root
            .as_str()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_string();
        let cgroup = format!("{root}{}/{}", name.slice_path, name.unit);
        let fs = FsManager::new(
            &CgroupSpec {
                cgroups_path: Some(&cgroup),
                id: spec.id,
                systemd: false,
                rootless: spec.rootless,
            },
            layout,
        )?;
        Ok(SystemdManager {
            fs,
            unit: name.unit,
            slice: name.slice,
            description: format!("ward container {}", spec.id),
            user: spec.rootless,
            cgroup,
            inner: Mutex::new(Inner {
                conn: Some(conn),
                ..Inner::default()
            }),
        })
    }

    pub(crate) fn restore(st: &CgroupState, unit: &SystemdUnit) -> Result<SystemdManager> {
        if !unit.unit.ends_with(".scope") || !unit_chars_ok(&unit.unit) {
            return Err(Error::Host(format!(
                "saved cgroup state names the unit {:?}, which is not a scope",
                unit.unit
            )));
        }
        Ok(SystemdManager {
            fs: FsManager::restore(st)?,
            unit: unit.unit.clone(),
            slice: String::new(),
            description: String::new(),
            user: unit.user,
            cgroup: String::new(),
            inner: Mutex::new(Inner {
                started: true,
                ..Inner::default()
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn v2(&self) -> bool {
        self.fs.layout() == Layout::V2
    }

    /// Runs `f` with a connection (made on first use after a restore).
    fn with_conn<T>(
        &self,
        inner: &mut Inner,
        f: impl FnOnce(&mut Conn) -> std::result::Result<T, BusError>,
    ) -> Result<std::result::Result<T, BusError>> {
        if inner.conn.is_none() {
            inner.conn = Some(connect(self.user)?);
        }
        match inner.conn.as_mut() {
            Some(c) => Ok(f(c)),
            None => Err(sd_err("no connection to systemd")),
        }
    }

    fn start(&self, inner: &mut Inner, pid: i32) -> Result<()> {
        let mut props = vec![
            Value::prop("Description", Value::Str(self.description.clone())),
            Value::prop("Slice", Value::Str(self.slice.clone())),
            // The container manages its own sub-cgroups (systemd stays out).
            Value::prop("Delegate", Value::Bool(true)),
            Value::prop(
                "PIDs",
                Value::Array("u".into(), vec![Value::U32(pid as u32)]),
            ),
            // No ordering against shutdown.target & co: the container's
            // lifetime is the runtime's business, not boot ordering.
            Value::prop("DefaultDependencies", Value::Bool(false)),
            Value::prop("MemoryAccounting", Value::Bool(true)),
            Value::prop("CPUAccounting", Value::Bool(true)),
            Value::prop("TasksAccounting", Value::Bool(true)),
            Value::prop(
                if self.v2() {
                    "IOAccounting"
                } else {
                    "BlockIOAccounting"
                },
                Value::Bool(true),
            ),
        ];
        if let Some(r) = &inner.resources {
            props.extend(resource_properties(r, self.v2())?);
        }
        let unit = self.unit.clone();
        let args = vec![
            Value::Str(unit.clone()),
            Value::Str("fail".into()),
            Value::Array("(sv)".into(), props),
            Value::Array("(sa(sv))".into(), vec![]),
        ];
        let res = self.with_conn(inner, |c| {
            run_job(c, "StartTransientUnit", args, &unit)?;
            let body = c.call(DEST, OBJ, MGR, "GetUnit", vec![Value::Str(unit.clone())])?;
            let path = body
                .first()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            get_prop(c, &path, "org.freedesktop.systemd1.Scope", "ControlGroup")
        })?;
        let cg = match res {
            Ok(v) => v.as_str().unwrap_or("").to_string(),
            Err(BusError::Reply(n, m)) if n.ends_with("UnitExists") => {
                return Err(sd_err(format!(
                    "the unit {} already exists ({m}): another container uses this linux.cgroupsPath; choose another or delete that container",
                    self.unit
                )))
            }
            Err(e) => {
                return Err(sd_err(format!("creating the scope {}: {e}", self.unit)));
            }
        };
        // From here on `destroy` may stop the unit: it is ours.
        inner.started = true;
        if cg != self.cgroup {
            return Err(sd_err(format!(
                "systemd put {} in the cgroup {cg:?}, not the expected {:?}",
                self.unit, self.cgroup
            )));
        }
        Ok(())
    }

    fn stop(&self, inner: &mut Inner) -> Result<()> {
        let unit = self.unit.clone();
        let args = vec![Value::Str(unit.clone()), Value::Str("replace".into())];
        match self.with_conn(inner, |c| run_job(c, "StopUnit", args, &unit))? {
            Ok(()) => Ok(()),
            // Gone already: a scope stops by itself once its last process
            // exits (a container killed with kill -9).
            Err(BusError::Reply(n, _)) if n.ends_with("NoSuchUnit") => Ok(()),
            Err(e) => Err(sd_err(format!("stopping {}: {e}", self.unit))),
        }
    }
}

impl Manager for SystemdManager {
    fn layout(&self) -> Layout {
        self.fs.layout()
    }

    fn check(&self, r: &LinuxResources) -> Result<()> {
        self.fs.check(r)?;
        resource_properties(r, self.v2()).map(|_| ())
    }

    /// Nothing to make yet: systemd makes the scope when it gets the init's
    /// pid (a scope cannot be empty). Bad input was refused in `check`.
    fn create(&self) -> Result<()> {
        self.fs.mark_created(Vec::new());
        Ok(())
    }

    fn add_pid(&self, pid: i32) -> Result<()> {
        if pid <= 0 {
            return Err(Error::op("adding a process", format!("{pid} is not a pid")));
        }
        let mut inner = self.lock();
        if inner.started {
            drop(inner);
            return self.fs.add_pid(pid);
        }
        self.start(&mut inner, pid)?;
        let r = inner.resources.clone().unwrap_or_default();
        drop(inner);
        // Hierarchies systemd does not manage (v1 net_cls, …) get their
        // directories here; then the limits go into the scope's directory.
        self.fs.create_dirs()?;
        self.fs.apply(&r)?;
        self.fs.add_pid(pid)
    }

    fn apply(&self, r: &LinuxResources) -> Result<()> {
        self.check(r)?;
        let mut inner = self.lock();
        inner.resources = Some(r.clone());
        if inner.started {
            drop(inner);
            return self.fs.apply(r);
        }
        Ok(())
    }

    fn update(&self, r: &LinuxResources) -> Result<()> {
        self.check(r)?;
        let props = resource_properties(r, self.v2())?;
        if !props.is_empty() {
            let mut inner = self.lock();
            let args = vec![
                Value::Str(self.unit.clone()),
                Value::Bool(true),
                Value::Array("(sv)".into(), props),
            ];
            self.with_conn(&mut inner, |c| {
                c.call(DEST, OBJ, MGR, "SetUnitProperties", args)
            })?
            .map_err(|e| sd_err(format!("updating {}: {e}", self.unit)))?;
        }
        self.fs.update(r)
    }

    fn freeze(&self) -> Result<()> {
        self.fs.freeze()
    }

    fn thaw(&self) -> Result<()> {
        self.fs.thaw()
    }

    fn is_frozen(&self) -> Result<bool> {
        self.fs.is_frozen()
    }

    fn pids(&self) -> Result<Vec<i32>> {
        self.fs.pids()
    }

    fn kill_all(&self, signal: i32) -> Result<()> {
        self.fs.kill_all(signal)
    }

    fn stats(&self) -> Result<Stats> {
        self.fs.stats()
    }

    fn oom_events(&self) -> Result<u64> {
        self.fs.oom_events()
    }

    fn destroy(&self) -> Result<()> {
        let mut inner = self.lock();
        if inner.started {
            self.stop(&mut inner)?;
            // systemd removes the scope's directory once the stop job is
            // done, asynchronously on some versions: give it a moment.
            let start = Instant::now();
            while self.fs.paths().iter().any(|p| p.is_dir())
                && start.elapsed() < Duration::from_secs(2)
            {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        drop(inner);
        // Directories ward made itself (hierarchies systemd leaves alone).
        self.fs.destroy()
    }

    fn paths(&self) -> Vec<PathBuf> {
        self.fs.paths()
    }

    /// Always `None`: the scope exists only once systemd has the pid, so
    /// clone3(CLONE_INTO_CGROUP) cannot target it.
    fn open_v2_dir(&self) -> Result<Option<OwnedFd>> {
        Ok(None)
    }

    fn state(&self) -> CgroupState {
        let mut st = self.fs.state();
        st.systemd = Some(SystemdUnit {
            unit: self.unit.clone(),
            user: self.user,
        });
        st
    }

    fn take_warnings(&self) -> Vec<String> {
        self.fs.take_warnings()
    }

    /// Nothing: systemd garbage-collects scopes whose processes are gone,
    /// and the slice's other directories belong to other units.
    fn remove_stale(
        &self,
        _prefix: &str,
        _min_age: Duration,
        _stale: &dyn Fn(&str) -> bool,
    ) -> Vec<PathBuf> {
        Vec::new()
    }
}
