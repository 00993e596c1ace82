//! `ward image`: the content store from the command line (docs/images.md):
//! pulls from registries under the trust policy (ward-engine; docs/trust.md),
//! from OCI layouts and docker-save archives; signing and verifying in the
//! registry.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;
use ward_cli::{
    ImageArgs, ImageCmd, ImageLoadArgs, ImagePullArgs, ImageSaveArgs, ImageSignArgs,
    ImageVerifyArgs,
};
use ward_image::export;
use ward_image::{
    DockerArchive, ImageRecord, OciLayout, Platform, PullOptions, Reference, Source, Store,
};
use ward_policy::Policy;

/// Exit code of an error of ward itself.
const EXIT_ERROR: u8 = 125;

/// The registry that names in a docker-save archive's `RepoTags` mean:
/// docker writes Docker Hub's names in their short form (`busybox:1`).
const ARCHIVE_DEFAULT_REGISTRY: &str = "docker.io";

pub fn main(a: ImageArgs) -> ExitCode {
    let verb = match &a.cmd {
        ImageCmd::Pull(_) => "pull",
        ImageCmd::Ls(_) => "ls",
        ImageCmd::Inspect { .. } => "inspect",
        ImageCmd::Rm { .. } => "rm",
        ImageCmd::Prune => "prune",
        ImageCmd::Load(_) => "load",
        ImageCmd::Save(_) => "save",
        ImageCmd::Sign(_) => "sign",
        ImageCmd::Verify(_) => "verify",
    };
    match run(a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ward image {verb}: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// What reaching a registry needs: the policy and the client settings.
struct Remote {
    policy: Policy,
    config: ward_registry::Config,
}

impl Remote {
    fn new(a: &ImageArgs) -> Result<Remote, String> {
        let policy = ward_gate::load(a.policy.as_deref()).map_err(|e| e.to_string())?;
        let config = ward_registry::Config {
            certs_dirs: vec![a.certs_dir.clone()],
            ..ward_registry::Config::default()
        };
        Ok(Remote { policy, config })
    }
}

fn run(a: ImageArgs) -> Result<(), String> {
    let store = || Store::open(&a.root).map_err(|e| format!("--root: {e}"));
    match &a.cmd {
        // Signing and verifying happen in the registry: no store needed.
        ImageCmd::Sign(s) => sign(&Remote::new(&a)?, s),
        ImageCmd::Verify(v) => verify(&Remote::new(&a)?, v),
        ImageCmd::Pull(p) if is_registry_source(&p.source) => {
            pull_registry(&Remote::new(&a)?, &store()?, p)
        }
        ImageCmd::Pull(p) => pull(&store()?, p),
        ImageCmd::Ls(l) => ls(&store()?, &l.format),
        ImageCmd::Inspect { reference } => inspect(&store()?, reference),
        ImageCmd::Rm { references } => {
            let store = store()?;
            for r in references {
                let rec = store
                    .remove_record(&parse_ref(r, "REF")?)
                    .map_err(|e| e.to_string())?;
                println!("Untagged: {}", rec.reference);
            }
            Ok(())
        }
        ImageCmd::Prune => {
            let r = store()?.prune().map_err(|e| e.to_string())?;
            println!(
                "Deleted {} blobs and {} unpacked layers, {} freed",
                r.blobs,
                r.layers,
                human_size(r.bytes)
            );
            Ok(())
        }
        ImageCmd::Load(l) => load(&store()?, l),
        ImageCmd::Save(s) => save(&store()?, s),
    }
}

/// Not a local transport (`oci:`, `docker-archive:`): a registry reference.
fn is_registry_source(source: &str) -> bool {
    !source.starts_with("oci:") && !source.starts_with("docker-archive:")
}

fn pull_registry(remote: &Remote, store: &Store, p: &ImagePullArgs) -> Result<(), String> {
    if p.name.is_some() {
        return Err("--name: an image from a registry keeps its own name; rename it with `ward image save` and `load`".into());
    }
    let image = p.source.strip_prefix("docker://").unwrap_or(&p.source);
    let pulled = ward_engine::pull_from_registry(
        store,
        image,
        &ward_engine::RegistryPull {
            policy: &remote.policy,
            registry: &remote.config,
            platform: parse_platform(p.platform.as_deref())?,
            keep_setid: p.keep_setid,
        },
    )
    .map_err(|e| e.to_string())?;
    let how = match &pulled.admitted.signature {
        Some(v) => format!("signature verified with {}", v.key),
        None => "unsigned, which the policy allows".to_string(),
    };
    eprintln!(
        "trust: [images.registries.\"{}\"]: {how}",
        pulled.admitted.scope
    );
    unpack(store, &pulled.record)?;
    println!("{} {}", pulled.record.reference, pulled.record.digest);
    Ok(())
}

/// Unpacks the image's layers for containers (ward-layer: nothing outside
/// the layer, setuid/setgid bits and file capabilities stripped, no device
/// nodes) and says on stderr what was neutralised.
fn unpack(store: &Store, rec: &ImageRecord) -> Result<(), String> {
    let done = match ward_engine::unpack_image(store, rec, &ward_layer::Options::default()) {
        Ok(done) => done,
        Err(e) => {
            // An image that cannot be unpacked (a decompression bomb, a
            // diff_id that lies) is not kept: no record to run or save it by.
            if let Ok(r) = Reference::parse(&rec.reference, None) {
                let _ = store.remove_record(&r);
            }
            return Err(format!("{e}; the image was not kept"));
        }
    };
    if rec.keep_setid {
        eprintln!(
            "{}: setuid/setgid bits and file capabilities kept (--keep-setid)",
            rec.reference
        );
    }
    let neutralised: Vec<String> = done.reports.iter().flat_map(|r| r.neutralised()).collect();
    if !neutralised.is_empty() {
        eprintln!("{}: unpacked: {}", rec.reference, neutralised.join(", "));
    }
    Ok(())
}

fn sign(remote: &Remote, s: &ImageSignArgs) -> Result<(), String> {
    let password = std::env::var("COSIGN_PASSWORD").ok();
    let key =
        ward_trust::PrivateKey::load_with_password(&s.key, password.as_deref().map(str::as_bytes))
            .map_err(|e| format!("--key {}: {e}", s.key.display()))?;
    let signed = ward_engine::sign_image(&remote.policy, &remote.config, &s.reference, &key)
        .map_err(|e| e.to_string())?;
    println!(
        "{}@{} signed: {}",
        signed.repository, signed.digest, signed.tag
    );
    Ok(())
}

fn verify(remote: &Remote, v: &ImageVerifyArgs) -> Result<(), String> {
    let r = ward_engine::verify_image(
        &remote.policy,
        &remote.config,
        &v.reference,
        v.key.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    let by = match (&r.key, &r.scope) {
        (Some(k), _) => format!("signature verified with {k}"),
        (None, Some(scope)) => {
            format!("unsigned, which [images.registries.\"{scope}\"] of the policy allows")
        }
        (None, None) => "no signature".to_string(),
    };
    println!("{}@{}: {by}", r.reference.name(), r.digest);
    Ok(())
}

fn parse_ref(s: &str, field: &str) -> Result<Reference, String> {
    Reference::parse(s, None).map_err(|e| format!("{field}: {e}"))
}

fn parse_platform(p: Option<&str>) -> Result<Option<Platform>, String> {
    p.map(Platform::parse).transpose()
}

/// `localhost/DIRNAME:TAG` for an OCI layout pulled without `--name`
/// (podman's convention for local images).
fn layout_default_name(dir: &Path, tag: &str) -> Result<Reference, String> {
    let base = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_lowercase()))
        .unwrap_or_default();
    let repo: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    let repo = repo.trim_matches('-');
    Reference::parse(&format!("localhost/{repo}:{tag}"), None)
        .map_err(|e| format!("{e}; name the image with --name REGISTRY/REPOSITORY:TAG"))
}

fn pull(store: &Store, p: &ImagePullArgs) -> Result<(), String> {
    let platform = parse_platform(p.platform.as_deref())?;
    let name = p
        .name
        .as_deref()
        .map(|n| parse_ref(n, "--name"))
        .transpose()?;
    let bad_source = || {
        format!(
            "SOURCE {:?}: expected oci:DIR[:TAG] or docker-archive:FILE[:REF] (pulling from registries is not available yet)",
            p.source
        )
    };
    let (mut source, tag, name): (Box<dyn Source>, String, Reference) = if let Some(rest) =
        p.source.strip_prefix("oci:")
    {
        let (dir, tag) = match rest.rsplit_once(':') {
            Some((d, t)) if !t.contains('/') => (d, t),
            _ => (rest, "latest"),
        };
        if dir.is_empty() {
            return Err(bad_source());
        }
        let src = OciLayout::open_dir(Path::new(dir)).map_err(|e| e.to_string())?;
        let name = match name {
            Some(n) => n,
            None => layout_default_name(Path::new(dir), tag)?,
        };
        (Box::new(src), tag.to_string(), name)
    } else if let Some(rest) = p.source.strip_prefix("docker-archive:") {
        let (file, wanted) = match rest.split_once(':') {
            Some((f, r)) => (f, Some(r)),
            None => (rest, None),
        };
        if file.is_empty() {
            return Err(bad_source());
        }
        let mut src = DockerArchive::open(Path::new(file)).map_err(|e| e.to_string())?;
        let tags = src.repo_tags().map_err(|e| e.to_string())?;
        let wanted = match wanted {
            Some(w) => w.to_string(),
            None if tags.len() <= 1 => tags.first().cloned().unwrap_or_else(|| "latest".into()),
            None => {
                return Err(format!(
                    "SOURCE: the archive holds {} names ({}); pick one: docker-archive:{file}:NAME",
                    tags.len(),
                    tags.join(", ")
                ))
            }
        };
        let name = match name {
            Some(n) => n,
            None => Reference::parse(&wanted, Some(ARCHIVE_DEFAULT_REGISTRY))
                .map_err(|e| format!("{e}; name the image with --name REGISTRY/REPOSITORY:TAG"))?,
        };
        (Box::new(src), wanted, name)
    } else {
        return Err(bad_source());
    };
    let rec = ward_image::pull(
        store,
        source.as_mut(),
        &PullOptions {
            name: &name,
            tag_or_digest: &tag,
            platform,
            keep_setid: p.keep_setid,
        },
    )
    .map_err(|e| e.to_string())?;
    unpack(store, &rec)?;
    println!("{} {}", rec.reference, rec.digest);
    Ok(())
}

fn load(store: &Store, l: &ImageLoadArgs) -> Result<(), String> {
    let platform = parse_platform(l.platform.as_deref())?;
    // (what to ask the source for, the name in the store)
    let mut wanted: Vec<(String, Reference)> = Vec::new();
    let mut source: Box<dyn Source> = if let Some(file) = &l.input {
        let mut src = DockerArchive::open(file).map_err(|e| format!("-i: {e}"))?;
        let tags = src.repo_tags().map_err(|e| e.to_string())?;
        if tags.is_empty() {
            return Err(format!(
                "-i {}: no image in the archive has a name (RepoTags); pull it with a name: ward image pull docker-archive:{} --name REF",
                file.display(),
                file.display()
            ));
        }
        for t in tags {
            let r = Reference::parse(&t, Some(ARCHIVE_DEFAULT_REGISTRY))
                .map_err(|e| format!("-i: {e}"))?;
            wanted.push((t, r));
        }
        Box::new(src)
    } else if let Some(dir) = &l.layout {
        let mut src = OciLayout::open_dir(dir).map_err(|e| format!("--layout: {e}"))?;
        let tags = src.tags().map_err(|e| e.to_string())?;
        if tags.is_empty() {
            return Err(format!(
                "--layout {}: no image in index.json has a name (org.opencontainers.image.ref.name); pull it with a name: ward image pull oci:{} --name REF",
                dir.display(),
                dir.display()
            ));
        }
        for t in tags {
            // A full reference as the name (docker, containerd), else a tag (skopeo).
            let r = match Reference::parse(&t, None) {
                Ok(r) if t.contains('/') => r,
                _ => layout_default_name(dir, &t)?,
            };
            wanted.push((t, r));
        }
        Box::new(src)
    } else {
        return Err("give -i ARCHIVE or --layout DIR".into());
    };
    for (tag, name) in wanted {
        let rec = ward_image::pull(
            store,
            source.as_mut(),
            &PullOptions {
                name: &name,
                tag_or_digest: &tag,
                platform: platform.clone(),
                keep_setid: l.keep_setid,
            },
        )
        .map_err(|e| e.to_string())?;
        unpack(store, &rec)?;
        println!("Loaded image: {} ({})", rec.reference, rec.digest);
    }
    Ok(())
}

fn save(store: &Store, s: &ImageSaveArgs) -> Result<(), String> {
    let mut recs = Vec::new();
    for r in &s.references {
        let reference = parse_ref(r, "REF")?;
        recs.push(store.get_record(&reference).map_err(|e| e.to_string())?);
    }
    if let Some(out) = &s.output {
        export::save_docker_archive(store, &recs, out)
            .map_err(|e| format!("-o {}: {e}", out.display()))?;
    }
    if let Some(dir) = &s.layout {
        for rec in &recs {
            export::save_layout(store, rec, dir)
                .map_err(|e| format!("--layout {}: {e}", dir.display()))?;
        }
    }
    Ok(())
}

fn split_name(rec: &ImageRecord) -> (String, String) {
    let r = rec.reference.split('@').next().unwrap_or(&rec.reference);
    match r.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (r.to_string(), "<none>".to_string()),
    }
}

fn ls(store: &Store, format: &str) -> Result<(), String> {
    let recs = store.records().map_err(|e| e.to_string())?;
    match format {
        "json" => {
            let out: Vec<_> = recs
                .iter()
                .map(|r| {
                    let (repository, tag) = split_name(r);
                    json!({
                        "reference": r.reference, "repository": repository, "tag": tag,
                        "digest": r.digest, "manifest": r.manifest, "config": r.config,
                        "platform": r.platform, "size": r.size(),
                    })
                })
                .collect();
            println!("{}", serde_json::Value::Array(out));
        }
        "table" => {
            let rows: Vec<[String; 4]> = recs
                .iter()
                .map(|r| {
                    let (repo, tag) = split_name(r);
                    let d = format!("{}:{}", r.digest.algorithm().name(), &r.digest.hex()[..12]);
                    [repo, tag, d, human_size(r.size())]
                })
                .collect();
            let header = ["REPOSITORY", "TAG", "DIGEST", "SIZE"].map(String::from);
            let mut widths = header.clone().map(|h| h.len());
            for row in &rows {
                for (w, c) in widths.iter_mut().zip(row) {
                    *w = (*w).max(c.len());
                }
            }
            for row in std::iter::once(&header).chain(&rows) {
                println!(
                    "{:<w0$}   {:<w1$}   {:<w2$}   {}",
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    w0 = widths[0],
                    w1 = widths[1],
                    w2 = widths[2]
                );
            }
        }
        other => return Err(format!("--format {other:?}: use table or json")),
    }
    Ok(())
}

fn inspect(store: &Store, r: &str) -> Result<(), String> {
    let rec = store
        .get_record(&parse_ref(r, "REF")?)
        .map_err(|e| e.to_string())?;
    let config = export::config_json(store, &rec).map_err(|e| e.to_string())?;
    let out = json!({
        "reference": rec.reference,
        "digest": rec.digest,
        "manifest": rec.manifest,
        "manifest_media_type": rec.manifest_media_type,
        "config_digest": rec.config,
        "config": config,
        "layers": rec.layers,
        "chain_ids": rec.chain_ids(),
        "platform": rec.platform,
        "size": rec.size(),
        "keep_setid": rec.keep_setid,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// Sizes as docker prints them (powers of 1000).
fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.2} {}", UNITS[u])
    }
}
