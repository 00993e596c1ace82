//! A layer's part of a plan travels with its `--explain` lines, so that
//! what the report says cannot drift from what the config does.

use crate::Layer;

/// A layer's part of the plan, with its `--explain` lines and notes.
#[derive(Debug)]
pub(crate) struct Explained<T> {
    pub part: T,
    pub layers: Vec<Layer>,
    pub notes: Vec<String>,
}

impl<T> Explained<T> {
    pub fn new(part: T) -> Explained<T> {
        Explained {
            part,
            layers: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn layer(mut self, layer: &'static str, detail: String, why: &'static str) -> Self {
        self.layers.push(Layer { layer, detail, why });
        self
    }

    pub fn note(mut self, note: String) -> Self {
        self.notes.push(note);
        self
    }

    /// Takes `other`'s lines (after this one's) and returns its part.
    pub fn absorb<U>(&mut self, other: Explained<U>) -> U {
        self.layers.extend(other.layers);
        self.notes.extend(other.notes);
        other.part
    }

    /// The same lines for another part.
    pub fn with<U>(self, part: U) -> Explained<U> {
        Explained {
            part,
            layers: self.layers,
            notes: self.notes,
        }
    }
}
