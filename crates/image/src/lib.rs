//! ward-image: image references, a content-addressed store, and pulling
//! images from a [`source::Source`] (an OCI layout, a `docker save`
//! archive; the registry client plugs in through the same trait) into it.
//! See docs/images.md.

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

pub mod digest;
pub mod export;
pub mod limits;
pub mod reference;

pub use digest::Digest;
pub use reference::{Reference, ReferenceError};
pub mod pull;
pub mod source;
pub mod store;

pub use pull::{pull, Platform, PullError, PullOptions};
pub use source::{DockerArchive, OciLayout, Source, SourceError};
pub use store::{ImageRecord, Store, StoreError};
