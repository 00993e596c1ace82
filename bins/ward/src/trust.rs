//! `ward trust`: the keys of image signing (docs/trust.md).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ward_cli::{KeygenArgs, TrustCmd};
use ward_trust::PrivateKey;

/// Exit code of an error of ward itself.
const EXIT_ERROR: u8 = 125;

pub fn main(cmd: TrustCmd) -> ExitCode {
    match cmd {
        TrustCmd::Keygen(a) => match keygen(&a) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ward trust keygen: {e}");
                ExitCode::from(EXIT_ERROR)
            }
        },
    }
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Creates `path` (never replacing a file or following a symlink there:
/// `create_new` is O_EXCL) with `mode`, and writes `text` durably.
fn write_new(path: &Path, mode: u32, text: &str) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "{} exists; ward never overwrites a key (choose another --out)",
                    path.display()
                )
            } else {
                format!("cannot create {}: {e}", path.display())
            }
        })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn keygen(a: &KeygenArgs) -> Result<(), String> {
    let key_path = with_suffix(&a.out, ".key");
    let pub_path = with_suffix(&a.out, ".pub");
    // Both names checked first, so that an existing PREFIX.pub does not
    // leave a fresh PREFIX.key behind.
    for p in [&key_path, &pub_path] {
        if p.symlink_metadata().is_ok() {
            return Err(format!(
                "{} exists; ward never overwrites a key (choose another --out)",
                p.display()
            ));
        }
    }
    let key = PrivateKey::generate();
    let public = key.public(&pub_path.display().to_string());
    let key_pem = if a.cosign {
        // cosign's convention; an empty password is allowed, as in cosign.
        let password = std::env::var_os("COSIGN_PASSWORD").ok_or(
            "--cosign encrypts the key with the password in $COSIGN_PASSWORD, which is not set",
        )?;
        key.to_cosign_pem(password.as_encoded_bytes())
    } else {
        key.to_pem()
    }
    .map_err(|e| e.to_string())?;
    let pub_pem = public.to_pem().map_err(|e| e.to_string())?;
    // 0600 from the start (not chmod after): the secret is never readable
    // by others, whatever the umask.
    write_new(&key_path, 0o600, &key_pem)?;
    if let Err(e) = write_new(&pub_path, 0o644, &pub_pem) {
        // The key file is ours, made a moment ago: no half pair is left.
        let _ = std::fs::remove_file(&key_path);
        return Err(e);
    }
    println!(
        "wrote {} (private: keep it secret) and {} (public, {})",
        key_path.display(),
        pub_path.display(),
        public.fingerprint()
    );
    println!(
        "to require it, name {} in keys = [...] of an [images.registries.\"HOST\"] table of {} (docs/trust.md)",
        pub_path.display(),
        ward_policy::DEFAULT_PATH
    );
    Ok(())
}
