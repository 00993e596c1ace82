//! The workspace as `cargo metadata --format-version 1` describes it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// One target of a package: the library, a binary, the build script, a test.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: String,
    pub name: String,
    pub root: PathBuf,
}

/// A dependency of a workspace package on another workspace package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dep {
    pub name: String,
    /// `normal`, `dev` or `build` (one entry per kind).
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    /// Directory of the manifest, relative to the workspace root.
    pub dir: PathBuf,
    pub targets: Vec<Target>,
    pub deps: Vec<Dep>,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    /// Workspace members, sorted by name.
    pub packages: Vec<Package>,
    metadata: Value,
}

fn text(v: &Value, key: &str) -> Result<String, String> {
    v[key]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("cargo metadata: no string {key:?}"))
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().map(Vec::as_slice).unwrap_or(&[])
}

impl Workspace {
    /// Runs `cargo metadata` for the workspace that holds `manifest_dir`.
    pub fn load(manifest_dir: &Path) -> Result<Workspace, String> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args(["metadata", "--format-version", "1"])
            .current_dir(manifest_dir)
            .output()
            .map_err(|e| format!("cargo metadata: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cargo metadata: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let metadata: Value =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
        Workspace::from_metadata(metadata)
    }

    pub fn from_metadata(metadata: Value) -> Result<Workspace, String> {
        let root = PathBuf::from(text(&metadata, "workspace_root")?);
        let members: Vec<String> = list(&metadata, "workspace_members")
            .iter()
            .filter_map(|m| m.as_str().map(str::to_owned))
            .collect();
        let mut packages = Vec::new();
        for p in list(&metadata, "packages") {
            let id = text(p, "id")?;
            if !members.contains(&id) {
                continue;
            }
            packages.push(package(&metadata, &root, p, &id)?);
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Workspace {
            root,
            packages,
            metadata,
        })
    }

    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// Every package (by name) that `name` links through normal
    /// dependencies, itself excluded.
    pub fn normal_closure(&self, name: &str) -> Vec<String> {
        let nodes = list(&self.metadata["resolve"], "nodes");
        let pkg_name = |id: &str| -> String {
            list(&self.metadata, "packages")
                .iter()
                .find(|p| p["id"].as_str() == Some(id))
                .and_then(|p| p["name"].as_str())
                .unwrap_or(id)
                .to_owned()
        };
        let start = list(&self.metadata, "packages")
            .iter()
            .find(|p| p["name"].as_str() == Some(name) && members_has(&self.metadata, p))
            .and_then(|p| p["id"].as_str())
            .map(str::to_owned);
        let mut seen: Vec<String> = Vec::new();
        let mut todo: Vec<String> = start.into_iter().collect();
        while let Some(id) = todo.pop() {
            let Some(node) = nodes.iter().find(|n| n["id"].as_str() == Some(&id)) else {
                continue;
            };
            for d in list(node, "deps") {
                let normal = list(d, "dep_kinds").iter().any(|k| k["kind"].is_null());
                let Some(pkg) = d["pkg"].as_str() else {
                    continue;
                };
                if normal && !seen.iter().any(|s| s == pkg) {
                    seen.push(pkg.to_owned());
                    todo.push(pkg.to_owned());
                }
            }
        }
        let mut names: Vec<String> = seen.iter().map(|id| pkg_name(id)).collect();
        names.sort();
        names.dedup();
        names
    }
}

fn members_has(metadata: &Value, p: &Value) -> bool {
    list(metadata, "workspace_members")
        .iter()
        .any(|m| m.as_str() == p["id"].as_str())
}

fn package(metadata: &Value, root: &Path, p: &Value, id: &str) -> Result<Package, String> {
    let manifest = PathBuf::from(text(p, "manifest_path")?);
    let dir = manifest
        .parent()
        .and_then(|d| d.strip_prefix(root).ok())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut targets = Vec::new();
    for t in list(p, "targets") {
        let kind = list(t, "kind")
            .first()
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        targets.push(Target {
            kind,
            name: text(t, "name")?,
            root: PathBuf::from(text(t, "src_path")?),
        });
    }
    let members = list(metadata, "workspace_members");
    let node = list(&metadata["resolve"], "nodes")
        .iter()
        .find(|n| n["id"].as_str() == Some(id));
    let mut deps = Vec::new();
    for d in node.map(|n| list(n, "deps")).unwrap_or(&[]) {
        let Some(pkg) = d["pkg"].as_str() else {
            continue;
        };
        if !members.iter().any(|m| m.as_str() == Some(pkg)) {
            continue;
        }
        let name = list(metadata, "packages")
            .iter()
            .find(|q| q["id"].as_str() == Some(pkg))
            .map(|q| text(q, "name"))
            .transpose()?
            .unwrap_or_default();
        for k in list(d, "dep_kinds") {
            let kind = k["kind"].as_str().unwrap_or("normal").to_owned();
            let dep = Dep {
                name: name.clone(),
                kind,
            };
            if !deps.contains(&dep) {
                deps.push(dep);
            }
        }
    }
    deps.sort();
    Ok(Package {
        name: text(p, "name")?,
        dir,
        targets,
        deps,
    })
}
