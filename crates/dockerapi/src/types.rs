//! The Docker Engine API v1.41 request bodies, the fields that change the
//! OCI config a Docker engine hands its runtime (moby `api/types/container`
//! Config, HostConfig, ExecConfig). Field names are Go's folded (see
//! json.rs): `hostconfig` is `HostConfig`. Fields ward does not judge
//! (ports, labels, logging, restart policy) are not read; dockerd ignores
//! unknown fields too.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `Cmd`, `Entrypoint`: a string or a list of strings (moby `strslice`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum StrSlice {
    One(String),
    Many(Vec<String>),
}

impl StrSlice {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            StrSlice::One(s) => vec![s],
            StrSlice::Many(v) => v,
        }
    }
}

/// `POST /containers/create`: `Config` with `HostConfig` (and
/// `NetworkingConfig`, not read) inline.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContainerCreateBody {
    #[serde(rename = "user")]
    pub user: Option<String>,
    #[serde(rename = "env")]
    pub env: Option<Vec<String>>,
    #[serde(rename = "cmd")]
    pub cmd: Option<StrSlice>,
    #[serde(rename = "entrypoint")]
    pub entrypoint: Option<StrSlice>,
    #[serde(rename = "image")]
    pub image: Option<String>,
    #[serde(rename = "workingdir")]
    pub working_dir: Option<String>,
    #[serde(rename = "hostname")]
    pub hostname: Option<String>,
    #[serde(rename = "tty")]
    pub tty: Option<bool>,
    #[serde(rename = "hostconfig")]
    pub host_config: Option<HostConfig>,
}

/// `HostConfig` (with `Resources` inline, as in Go).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HostConfig {
    #[serde(rename = "binds")]
    pub binds: Option<Vec<String>>,
    #[serde(rename = "mounts")]
    pub mounts: Option<Vec<MountSpec>>,
    #[serde(rename = "privileged")]
    pub privileged: Option<bool>,
    #[serde(rename = "capadd")]
    pub cap_add: Option<Vec<String>>,
    #[serde(rename = "capdrop")]
    pub cap_drop: Option<Vec<String>>,
    #[serde(rename = "pidmode")]
    pub pid_mode: Option<String>,
    #[serde(rename = "networkmode")]
    pub network_mode: Option<String>,
    #[serde(rename = "ipcmode")]
    pub ipc_mode: Option<String>,
    #[serde(rename = "utsmode")]
    pub uts_mode: Option<String>,
    #[serde(rename = "usernsmode")]
    pub userns_mode: Option<String>,
    #[serde(rename = "cgroupnsmode")]
    pub cgroupns_mode: Option<String>,
    #[serde(rename = "securityopt")]
    pub security_opt: Option<Vec<String>>,
    #[serde(rename = "sysctls")]
    pub sysctls: Option<BTreeMap<String, String>>,
    #[serde(rename = "readonlyrootfs")]
    pub readonly_rootfs: Option<bool>,
    #[serde(rename = "maskedpaths")]
    pub masked_paths: Option<Vec<String>>,
    #[serde(rename = "readonlypaths")]
    pub readonly_paths: Option<Vec<String>>,
    #[serde(rename = "tmpfs")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    #[serde(rename = "cgroupparent")]
    pub cgroup_parent: Option<String>,
    #[serde(flatten)]
    pub resources: Resources,
}

/// `Resources` (inline in HostConfig; the body of `POST
/// /containers/{id}/update` with `RestartPolicy`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Resources {
    #[serde(rename = "memory")]
    pub memory: Option<i64>,
    #[serde(rename = "memoryswap")]
    pub memory_swap: Option<i64>,
    #[serde(rename = "memoryreservation")]
    pub memory_reservation: Option<i64>,
    #[serde(rename = "pidslimit")]
    pub pids_limit: Option<i64>,
    #[serde(rename = "nanocpus")]
    pub nano_cpus: Option<i64>,
    #[serde(rename = "cpuquota")]
    pub cpu_quota: Option<i64>,
    #[serde(rename = "cpuperiod")]
    pub cpu_period: Option<i64>,
    #[serde(rename = "cpushares")]
    pub cpu_shares: Option<i64>,
    #[serde(rename = "cpusetcpus")]
    pub cpuset_cpus: Option<String>,
    #[serde(rename = "cpusetmems")]
    pub cpuset_mems: Option<String>,
    #[serde(rename = "devices")]
    pub devices: Option<Vec<DeviceMapping>>,
    #[serde(rename = "devicecgrouprules")]
    pub device_cgroup_rules: Option<Vec<String>>,
}

/// One `HostConfig.Mounts` entry (moby `api/types/mount.Mount`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MountSpec {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(rename = "source")]
    pub source: Option<String>,
    #[serde(rename = "target")]
    pub target: Option<String>,
    #[serde(rename = "readonly")]
    pub read_only: Option<bool>,
    #[serde(rename = "bindoptions")]
    pub bind_options: Option<BindOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BindOptions {
    #[serde(rename = "propagation")]
    pub propagation: Option<String>,
    #[serde(rename = "nonrecursive")]
    pub non_recursive: Option<bool>,
}

/// One `--device` (moby `DeviceMapping`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DeviceMapping {
    #[serde(rename = "pathonhost")]
    pub path_on_host: Option<String>,
    #[serde(rename = "pathincontainer")]
    pub path_in_container: Option<String>,
    #[serde(rename = "cgrouppermissions")]
    pub cgroup_permissions: Option<String>,
}

/// `POST /containers/{id}/exec` (moby `ExecConfig`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExecBody {
    #[serde(rename = "user")]
    pub user: Option<String>,
    #[serde(rename = "privileged")]
    pub privileged: Option<bool>,
    #[serde(rename = "cmd")]
    pub cmd: Option<StrSlice>,
    #[serde(rename = "env")]
    pub env: Option<Vec<String>>,
    #[serde(rename = "workingdir")]
    pub working_dir: Option<String>,
}
