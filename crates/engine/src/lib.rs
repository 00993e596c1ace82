//! ward-engine: images from registries under the trust policy (pull, sign,
//! verify); later, containers from images (`ward run`, the daemon). The
//! value the policy judges is the value the engine executes
//! (docs/architecture.md, "The engine").

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

pub mod access;
pub mod container;
pub mod pull;
pub mod registry_source;
pub mod sign;
pub mod unpack;

pub use access::PullError;
pub use pull::{pull_from_registry, Pulled, RegistryPull};
pub use sign::{sign_image, verify_image, Signed, Verification};
pub use unpack::{unpack_image, UnpackError, Unpacked};
