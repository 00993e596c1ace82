//! A repository of a registry as a [`ward_image::Source`]: the pull and the
//! store verify what it serves (digests, sizes, limits); this only moves
//! bytes.

use std::io::Read;

use ward_image::{Digest, Source, SourceError};
use ward_registry::{Client, Error as RegistryError};

pub struct RegistrySource<'a> {
    client: &'a Client,
    repository: String,
}

impl<'a> RegistrySource<'a> {
    pub fn new(client: &'a Client, repository: &str) -> RegistrySource<'a> {
        RegistrySource {
            client,
            repository: repository.to_string(),
        }
    }

    fn invalid(&self, e: RegistryError) -> SourceError {
        SourceError::Invalid {
            source_name: self.describe(),
            problem: e.kind.to_string(),
        }
    }
}

impl Source for RegistrySource<'_> {
    fn manifest(&mut self, tag_or_digest: &str) -> Result<(Vec<u8>, String), SourceError> {
        // The client stops reading at its own 4 MiB limit (the pull's).
        let m = self
            .client
            .manifest(&self.repository, tag_or_digest)
            .map_err(|e| self.invalid(e))?;
        Ok((m.bytes, m.media_type))
    }

    fn blob(&mut self, digest: &Digest, _size: u64) -> Result<Box<dyn Read + '_>, SourceError> {
        let b = self
            .client
            .blob(&self.repository, &digest.to_string())
            .map_err(|e| self.invalid(e))?;
        Ok(Box::new(b))
    }

    fn describe(&self) -> String {
        format!("{}/{}", self.client.registry(), self.repository)
    }
}
