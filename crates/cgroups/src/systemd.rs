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

use crate::dbus::{BusError, Conn, Value};
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

/// Where a container's scope goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeName {
    /// The slice unit, e.g. `system.slice`.
    pub slice: String,
    /// The scope unit, e.g. `docker-1234.scope`.
    pub unit: String,
    /// The slice's cgroup path, e.g. `/system.slice` or `/a.slice/a-b.slice`.
    pub slice_path: String,
}

fn path_err(p: &str, msg: impl Into<String>) -> Error {
    Error::CgroupsPath {
        path: p.to_string(),
        msg: msg.into(),
    }
}

/// Characters systemd accepts in a unit name without escaping.
fn unit_chars_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '\\' | '@'))
}

/// `a-b-c.slice` → `/a.slice/a-b.slice/a-b-c.slice` (systemd's slice
/// nesting; runc's ExpandSlice). `-.slice` is the root.
pub fn expand_slice(whole: &str, slice: &str) -> Result<String> {
    let Some(stem) = slice.strip_suffix(".slice") else {
        return Err(path_err(
            whole,
            format!("the slice {slice:?} must end in \".slice\" (systemd form \"slice:prefix:name\", e.g. \"system.slice:docker:1234\")"),
        ));
    };
    if stem == "-" {
        return Ok(String::new());
    }
    if stem.is_empty()
        || stem.starts_with('-')
        || stem.ends_with('-')
        || stem.contains("--")
        || !unit_chars_ok(stem)
        || stem.contains('@')
    {
        return Err(path_err(
            whole,
            format!("{slice:?} is not a valid slice name: use letters, digits, '_', '.', with '-' only between nesting levels (e.g. \"machine-ward.slice\")"),
        ));
    }
    let mut out = String::new();
    let mut prefix = String::new();
    for part in stem.split('-') {
        if !prefix.is_empty() {
            prefix.push('-');
        }
        prefix.push_str(part);
        out.push('/');
        out.push_str(&prefix);
        out.push_str(".slice");
    }
    Ok(out)
}

/// Parses `linux.cgroupsPath` for the systemd driver.
pub fn parse_scope(path: Option<&str>, id: &str, rootless: bool) -> Result<ScopeName> {
    let default_slice = if rootless {
        "user.slice"
    } else {
        "system.slice"
    };
    let p = path.unwrap_or("");
    let (slice, prefix, name) = if p.is_empty() {
        (default_slice, "ward", id)
    } else {
        let parts: Vec<&str> = p.split(':').collect();
        let [slice, prefix, name] = parts[..] else {
            return Err(path_err(
                p,
                "with --systemd-cgroup it must have the form \"slice:prefix:name\" (e.g. \"system.slice:ward:1234\"); drop --systemd-cgroup to use a filesystem path",
            ));
        };
        (
            if slice.is_empty() {
                default_slice
            } else {
                slice
            },
            prefix,
            name,
        )
    };
    for (what, v) in [("prefix", prefix), ("name", name)] {
        let bad = v == "." || v == ".." || !unit_chars_ok(v) || v.contains('@');
        if bad || (what == "name" && v.is_empty()) {
            return Err(path_err(
                p,
                format!("the {what} {v:?} is not a plain unit name: use letters, digits, '_', '.', '-' (no '/', no \"..\")"),
            ));
        }
    }
    if name.ends_with(".slice") {
        return Err(path_err(
            p,
            "a name ending in \".slice\" asks for a slice as the container's cgroup, which ward does not create: name a scope instead",
        ));
    }
    let slice_path = expand_slice(p, slice)?;
    let unit = if prefix.is_empty() {
        format!("{name}.scope")
    } else {
        format!("{prefix}-{name}.scope")
    };
    if unit.len() > 255 {
        return Err(path_err(
            p,
            "the unit name would be longer than 255 characters",
        ));
    }
    Ok(ScopeName {
        slice: slice.to_string(),
        unit,
        slice_path,
    })
}

/// A cpuset list ("0-3,5") as systemd's AllowedCPUs byte mask (byte i
/// holds CPUs 8i..8i+7, as runc sends it).
pub fn cpuset_mask(field: &str, list: &str) -> Result<Vec<u8>> {
    const MAX: u32 = 8192;
    let mut mask = Vec::new();
    for part in list.trim().split(',').filter(|s| !s.trim().is_empty()) {
        let bad = || {
            Error::resource(
                field,
                format!("{list:?} is not a cpu/node list like \"0-3,5\" (numbers below {MAX})"),
            )
        };
        let (a, b) = match part.trim().split_once('-') {
            Some((a, b)) => (a, b),
            None => (part.trim(), part.trim()),
        };
        let a: u32 = a.trim().parse().map_err(|_| bad())?;
        let b: u32 = b.trim().parse().map_err(|_| bad())?;
        if a > b || b >= MAX {
            return Err(bad());
        }
        for n in a..=b {
            let byte = (n / 8) as usize;
            if mask.len() <= byte {
                mask.resize(byte + 1, 0);
            }
            mask[byte] |= 1 << (n % 8);
        }
    }
    Ok(mask)
}

fn inf(v: i64) -> u64 {
    if v < 0 {
        u64::MAX
    } else {
        v as u64
    }
}

/// The unit properties for the limits systemd understands (as runc's
/// genV1/genV2ResourcesProperties). The cgroupfs driver writes these and
/// everything else afterwards; giving them to systemd too keeps a later
/// `systemctl daemon-reload` from resetting them.
pub fn resource_properties(r: &LinuxResources, v2: bool) -> Result<Vec<Value>> {
    let mut p = Vec::new();
    let mut add = |k: &str, v: Value| p.push(Value::prop(k, v));
    if let Some(m) = &r.memory {
        let limit = m.limit.unwrap_or(0);
        if limit != 0 {
            add(
                if v2 { "MemoryMax" } else { "MemoryLimit" },
                Value::U64(inf(limit)),
            );
        }
        if v2 {
            if let Some(res) = m.reservation.filter(|x| *x != 0) {
                add("MemoryLow", Value::U64(inf(res)));
            }
            if let Some(s) = crate::convert::swap_to_v2(m.swap.unwrap_or(0), limit)? {
                let v = if s == "max" {
                    u64::MAX
                } else {
                    s.parse().map_err(|_| {
                        Error::resource(
                            "linux.resources.memory.swap",
                            format!("{s:?} is not a number"),
                        )
                    })?
                };
                add("MemorySwapMax", Value::U64(v));
            }
        }
    }
    if let Some(pl) = r.pids.as_ref().and_then(|p| p.limit).filter(|l| *l != 0) {
        add("TasksMax", Value::U64(inf(pl)));
    }
    if let Some(c) = &r.cpu {
        if let Some(s) = c.shares.filter(|s| *s != 0) {
            if v2 {
                add("CPUWeight", Value::U64(crate::convert::shares_to_weight(s)));
            } else {
                add("CPUShares", Value::U64(s));
            }
        }
        let quota = c.quota.unwrap_or(0);
        let period = c.period.unwrap_or(0);
        if quota != 0 || period != 0 {
            let period = if period == 0 { 100_000 } else { period };
            add("CPUQuotaPeriodUSec", Value::U64(period));
            let mut per_sec = u64::MAX;
            if quota > 0 {
                per_sec = (quota as u64).saturating_mul(1_000_000) / period;
                // systemd keeps CPUQuotaPerSecUSec in 10ms steps: round up
                // so the limit is never tighter than asked (runc does too).
                if per_sec % 10_000 != 0 {
                    per_sec = (per_sec / 10_000 + 1) * 10_000;
                }
            }
            add("CPUQuotaPerSecUSec", Value::U64(per_sec));
        }
        if v2 {
            if let Some(cpus) = c.cpus.as_deref().filter(|s| !s.trim().is_empty()) {
                let m = cpuset_mask("linux.resources.cpu.cpus", cpus)?;
                add(
                    "AllowedCPUs",
                    Value::Array("y".into(), m.into_iter().map(Value::Byte).collect()),
                );
            }
            if let Some(mems) = c.mems.as_deref().filter(|s| !s.trim().is_empty()) {
                let m = cpuset_mask("linux.resources.cpu.mems", mems)?;
                add(
                    "AllowedMemoryNodes",
                    Value::Array("y".into(), m.into_iter().map(Value::Byte).collect()),
                );
            }
        }
    }
    if let Some(w) = r
        .block_io
        .as_ref()
        .and_then(|b| b.weight)
        .filter(|w| *w != 0)
    {
        if v2 {
            add(
                "IOWeight",
                Value::U64(crate::convert::blkio_weight_to_io_weight(w)),
            );
        } else {
            add("BlockIOWeight", Value::U64(u64::from(w)));
        }
    }
    Ok(p)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_expand_like_systemd() {
        assert_eq!(
            expand_slice("x", "system.slice").expect("valid"),
            "/system.slice"
        );
        assert_eq!(expand_slice("x", "-.slice").expect("valid"), "");
        assert_eq!(
            expand_slice("x", "a-b-c.slice").expect("valid"),
            "/a.slice/a-b.slice/a-b-c.slice"
        );
        for bad in [
            "a",
            "a/b.slice",
            "-a.slice",
            "a-.slice",
            "a--b.slice",
            ".slice",
            "../x.slice",
        ] {
            let e = expand_slice("p", bad).expect_err(bad).to_string();
            assert!(e.contains("linux.cgroupsPath"), "{e}");
        }
    }

    #[test]
    fn cgroups_path_forms_like_runc() {
        let s = parse_scope(Some("system.slice:docker:1234"), "id", false).expect("valid");
        assert_eq!(
            (s.slice.as_str(), s.unit.as_str()),
            ("system.slice", "docker-1234.scope")
        );
        assert_eq!(s.slice_path, "/system.slice");
        let s = parse_scope(Some("machine-ward.slice::abc"), "id", false).expect("valid");
        assert_eq!(s.unit, "abc.scope");
        assert_eq!(s.slice_path, "/machine.slice/machine-ward.slice");
        let s = parse_scope(Some(":ward:c1"), "id", true).expect("valid");
        assert_eq!(s.slice, "user.slice");
        let s = parse_scope(None, "c2", false).expect("valid");
        assert_eq!(
            (s.slice.as_str(), s.unit.as_str()),
            ("system.slice", "ward-c2.scope")
        );
        for bad in [
            "/ward/c1",
            "a:b",
            "a:b:c:d",
            "system.slice:ward:..",
            "system.slice:ward:a/b",
            "system.slice:../x:c",
            "system.slice:ward:",
            "x/y.slice:ward:c",
            "system.slice:ward:a b",
            "system.slice:ward:sub.slice",
        ] {
            let e = parse_scope(Some(bad), "id", false)
                .expect_err(bad)
                .to_string();
            assert!(e.contains("linux.cgroupsPath"), "{bad}: {e}");
        }
    }

    #[test]
    fn cpu_lists_become_systemd_masks() {
        assert_eq!(cpuset_mask("f", "0").expect("valid"), vec![1]);
        assert_eq!(cpuset_mask("f", "0-3,9").expect("valid"), vec![0x0f, 0x02]);
        assert_eq!(cpuset_mask("f", " 1 , 3-4 ").expect("valid"), vec![0x1a]);
        for bad in ["a", "3-1", "1-", "99999"] {
            assert!(
                cpuset_mask("linux.resources.cpu.cpus", bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn properties_convert_like_runc() {
        let r: LinuxResources = serde_json::from_str(
            r#"{"memory":{"limit":1048576,"reservation":524288,"swap":2097152},
                "pids":{"limit":-1},
                "cpu":{"shares":1024,"quota":33000,"period":100000,"cpus":"0-1"},
                "blockIO":{"weight":500}}"#,
        )
        .expect("valid");
        let get = |props: &[Value], k: &str| {
            props.iter().find_map(|p| match p {
                Value::Struct(kv) if kv[0] == Value::Str(k.into()) => match &kv[1] {
                    Value::Variant(v) => Some((**v).clone()),
                    _ => None,
                },
                _ => None,
            })
        };
        let v2 = resource_properties(&r, true).expect("valid");
        assert_eq!(get(&v2, "MemoryMax"), Some(Value::U64(1048576)));
        assert_eq!(get(&v2, "MemoryLow"), Some(Value::U64(524288)));
        // v2 swap is swap minus memory.
        assert_eq!(get(&v2, "MemorySwapMax"), Some(Value::U64(1048576)));
        assert_eq!(get(&v2, "TasksMax"), Some(Value::U64(u64::MAX)));
        assert_eq!(get(&v2, "CPUWeight"), Some(Value::U64(39)));
        // 33% of a CPU is 330ms per second, already a 10ms step.
        assert_eq!(get(&v2, "CPUQuotaPerSecUSec"), Some(Value::U64(330_000)));
        assert_eq!(get(&v2, "CPUQuotaPeriodUSec"), Some(Value::U64(100_000)));
        assert_eq!(
            get(&v2, "AllowedCPUs"),
            Some(Value::Array("y".into(), vec![Value::Byte(3)]))
        );
        assert_eq!(get(&v2, "IOWeight"), Some(Value::U64(4950)));
        let v1 = resource_properties(&r, false).expect("valid");
        assert_eq!(get(&v1, "MemoryLimit"), Some(Value::U64(1048576)));
        assert_eq!(get(&v1, "CPUShares"), Some(Value::U64(1024)));
        assert_eq!(get(&v1, "BlockIOWeight"), Some(Value::U64(500)));
        assert_eq!(get(&v1, "AllowedCPUs"), None);
        // A quota that is not a 10ms step is rounded up, never down.
        let r: LinuxResources =
            serde_json::from_str(r#"{"cpu":{"quota":12345,"period":100000}}"#).expect("valid");
        let p = resource_properties(&r, true).expect("valid");
        assert_eq!(get(&p, "CPUQuotaPerSecUSec"), Some(Value::U64(130_000)));
    }
}
