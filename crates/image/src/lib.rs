//! ward-image: image references, a content-addressed store, and pulling
//! images from a [`source::Source`] (an OCI layout, a `docker save`
//! archive; the registry client plugs in through the same trait) into it.
//! See docs/images.md.

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

pub mod digest;
pub mod reference;

pub use digest::Digest;
pub use reference::{Reference, ReferenceError};
