//! Docker's JSON as dockerd's Go decoder reads it, so that ward judges the
//! value dockerd will act on:
//! - object keys match struct fields case-insensitively (Go's
//!   `encoding/json`: `"privileged": true` sets `Privileged`), with Go's
//!   simple case folding (`ſ` is `s`, the Kelvin sign is `k`);
//! - a repeated key takes the last value in Go. ward refuses a body with a
//!   repeated key (exactly, or after folding for struct fields) instead:
//!   two values for one field are an attempt to show a checker one value
//!   and the engine another.
//!
//! Data maps (labels, sysctls, tmpfs, ...) keep their keys as written.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Keys (folded) whose value is a map of data: their keys are kept as is.
const DATA_MAPS: [&str; 13] = [
    "labels",
    "exposedports",
    "volumes",
    "sysctls",
    "tmpfs",
    "storageopt",
    "portbindings",
    "endpointsconfig",
    "driveropts",
    "options",
    "config",
    "annotations",
    "driver_opts",
];

/// A JSON value read with every object's keys checked for repeats.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Strict, E> {
        Ok(Strict(
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Strict, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut v = Vec::new();
        while let Some(Strict(x)) = seq.next_element()? {
            v.push(x);
        }
        Ok(Strict(Value::Array(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut m = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let Strict(v) = map.next_value()?;
            if m.insert(k.clone(), v).is_some() {
                return Err(de::Error::custom(format!("the key {k:?} appears twice")));
            }
        }
        Ok(Strict(Value::Object(m)))
    }
}

/// Go's case folding of one field name (`encoding/json` foldName: ASCII
/// lower case; other letters upper- then lower-cased: `ſ` -> `s`,
/// U+212A KELVIN SIGN -> `k`).
pub fn fold(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii() {
                return c.to_ascii_lowercase();
            }
            let mut up = c.to_uppercase();
            let u = match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            };
            let mut low = u.to_lowercase();
            match (low.next(), low.next()) {
                (Some(l), None) => l,
                _ => u,
            }
        })
        .collect()
}

/// Parses `bytes` with repeated keys refused and every struct field's key
/// folded (see the module doc).
pub fn parse_folded(bytes: &[u8]) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let Strict(v) = serde::Deserialize::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    fold_value(v)
}

fn fold_value(v: Value) -> Result<Value, String> {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let f = fold(&k);
                let v = if DATA_MAPS.contains(&f.as_str()) {
                    v
                } else {
                    fold_value(v)?
                };
                if out.insert(f.clone(), v).is_some() {
                    return Err(format!(
                        "the field {k:?} appears twice (Go matches field names without regard to case)"
                    ));
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(a) => a
            .into_iter()
            .map(fold_value)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        v => Ok(v),
    }
}
