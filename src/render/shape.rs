//! The shape of a template view: what `check` tells devices apart by
//! when it renders one device of each shape ([`super::sample_picks`]).
//!
//! A shape is the keys a view has and the kind of each value — which
//! strings and lists are empty, which options absent, booleans with their
//! value, integers from floats — never the values themselves. A list's
//! shape is the set of its elements' shapes and whether it holds none, one
//! or more: a hundred ports have the shape of two. A map's keys are data
//! (interface, network and user names, variable names) and count.
//!
//! Computed by a [`serde::Serializer`] that hashes as it goes, so a view
//! is measured without being copied into another tree.

use std::hash::{Hash, Hasher};

use rustc_hash::FxHasher;
use serde::ser::{self, Serialize};

/// The shape of `v`, as a hash.
pub fn of<T: Serialize + ?Sized>(v: &T) -> u64 {
    v.serialize(Shape).unwrap_or(0)
}

fn tagged<T: Hash>(t: T) -> u64 {
    let mut h = FxHasher::default();
    t.hash(&mut h);
    h.finish()
}

#[derive(Debug)]
pub struct Never;

impl std::fmt::Display for Never {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no shape")
    }
}

impl std::error::Error for Never {}

impl ser::Error for Never {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Never
    }
}

struct Shape;

/// A list: its elements' shapes, made a set when it ends.
pub struct Seq(Vec<u64>);

/// A map or struct: its keys and their values' shapes, in order.
pub struct Map(FxHasher);

const NULL: u8 = 0;
const BOOL: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 3;
const STR: u8 = 4;
const SEQ: u8 = 5;
const MAP: u8 = 6;

impl Seq {
    fn end(mut self) -> u64 {
        let n = self.0.len().min(2);
        self.0.sort_unstable();
        self.0.dedup();
        tagged((SEQ, n, self.0))
    }
}

impl Map {
    fn new() -> Map {
        let mut h = FxHasher::default();
        MAP.hash(&mut h);
        Map(h)
    }
}

macro_rules! ints {
    ($($m:ident: $t:ty),*) => {$(
        fn $m(self, _: $t) -> Result<u64, Never> {
            Ok(tagged(INT))
        }
    )*};
}

impl ser::Serializer for Shape {
    type Ok = u64;
    type Error = Never;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Seq;
    type SerializeMap = Map;
    type SerializeStruct = Map;
    type SerializeStructVariant = Map;

    fn serialize_bool(self, v: bool) -> Result<u64, Never> {
        Ok(tagged((BOOL, v)))
    }
    ints!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
          serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);
    fn serialize_f32(self, _: f32) -> Result<u64, Never> {
        Ok(tagged(FLOAT))
    }
    fn serialize_f64(self, _: f64) -> Result<u64, Never> {
        Ok(tagged(FLOAT))
    }
    fn serialize_char(self, _: char) -> Result<u64, Never> {
        Ok(tagged((STR, false)))
    }
    fn serialize_str(self, v: &str) -> Result<u64, Never> {
        Ok(tagged((STR, v.is_empty())))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<u64, Never> {
        Ok(tagged((STR, v.is_empty())))
    }
    fn serialize_none(self) -> Result<u64, Never> {
        Ok(tagged(NULL))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<u64, Never> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<u64, Never> {
        Ok(tagged(NULL))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<u64, Never> {
        Ok(tagged(NULL))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        v: &'static str,
    ) -> Result<u64, Never> {
        // An enum's variant is a word a template compares: it counts.
        Ok(tagged((STR, v)))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<u64, Never> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<u64, Never> {
        Ok(tagged((MAP, variant, v.serialize(self)?)))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, Never> {
        Ok(Seq(Vec::with_capacity(len.unwrap_or(0).min(64))))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, Never> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq, Never> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<Seq, Never> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Map, Never> {
        Ok(Map::new())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Map, Never> {
        Ok(Map::new())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Map, Never> {
        let mut m = Map::new();
        variant.hash(&mut m.0);
        Ok(m)
    }
}

macro_rules! seq_impl {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for Seq {
            type Ok = u64;
            type Error = Never;
            fn $m<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Never> {
                self.0.push(v.serialize(Shape)?);
                Ok(())
            }
            fn end(self) -> Result<u64, Never> {
                Ok(Seq::end(self))
            }
        }
    )*};
}
seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Map {
    type Ok = u64;
    type Error = Never;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), Never> {
        // A key is data: its text counts, not only its kind.
        k.serialize(Key(&mut self.0))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Never> {
        v.serialize(Shape)?.hash(&mut self.0);
        Ok(())
    }
    fn end(self) -> Result<u64, Never> {
        Ok(self.0.finish())
    }
}

macro_rules! struct_impl {
    ($($tr:ident),*) => {$(
        impl ser::$tr for Map {
            type Ok = u64;
            type Error = Never;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                k: &'static str,
                v: &T,
            ) -> Result<(), Never> {
                (k, v.serialize(Shape)?).hash(&mut self.0);
                Ok(())
            }
            fn end(self) -> Result<u64, Never> {
                Ok(self.0.finish())
            }
        }
    )*};
}
struct_impl!(SerializeStruct, SerializeStructVariant);

/// A map's key, hashed by its value (keys are strings or numbers; anything
/// else by its shape).
struct Key<'a>(&'a mut FxHasher);

macro_rules! key_by_value {
    ($($m:ident: $t:ty),*) => {$(
        fn $m(self, v: $t) -> Result<(), Never> {
            v.hash(self.0);
            Ok(())
        }
    )*};
}

impl ser::Serializer for Key<'_> {
    type Ok = ();
    type Error = Never;
    type SerializeSeq = ser::Impossible<(), Never>;
    type SerializeTuple = ser::Impossible<(), Never>;
    type SerializeTupleStruct = ser::Impossible<(), Never>;
    type SerializeTupleVariant = ser::Impossible<(), Never>;
    type SerializeMap = ser::Impossible<(), Never>;
    type SerializeStruct = ser::Impossible<(), Never>;
    type SerializeStructVariant = ser::Impossible<(), Never>;

    key_by_value!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16,
        serialize_i32: i32, serialize_i64: i64, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_char: char, serialize_str: &str,
        serialize_bytes: &[u8]);
    fn serialize_f32(self, v: f32) -> Result<(), Never> {
        v.to_bits().hash(self.0);
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Never> {
        v.to_bits().hash(self.0);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Never> {
        NULL.hash(self.0);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Never> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Never> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Never> {
        self.serialize_none()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Never> {
        v.hash(self.0);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Never> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        v: &T,
    ) -> Result<(), Never> {
        v.serialize(Shape)?.hash(self.0);
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Never> {
        Err(Never)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Never> {
        Err(Never)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Never> {
        Err(Never)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Never> {
        Err(Never)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Never> {
        Err(Never)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Never> {
        Err(Never)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Never> {
        Err(Never)
    }
}

#[cfg(test)]
mod tests {
    use super::of;
    use serde_json::json;

    #[test]
    fn values_do_not_count_what_is_there_does() {
        let a = json!({"name": "r01n01", "serial": "X1", "ports": ["swp1", "swp2"], "bgp": true});
        let b = json!({"name": "r09n33", "serial": "Q7", "ports": ["swp9", "swp3", "swp4"], "bgp": true});
        assert_eq!(of(&a), of(&b), "other values, more of the same ports");
        let empty_serial =
            json!({"name": "r01n01", "serial": "", "ports": ["swp1", "swp2"], "bgp": true});
        let no_bgp =
            json!({"name": "r01n01", "serial": "X1", "ports": ["swp1", "swp2"], "bgp": false});
        let one_port = json!({"name": "r01n01", "serial": "X1", "ports": ["swp1"], "bgp": true});
        let null_serial =
            json!({"name": "r01n01", "serial": null, "ports": ["swp1", "swp2"], "bgp": true});
        let shapes = [
            of(&a),
            of(&empty_serial),
            of(&no_bgp),
            of(&one_port),
            of(&null_serial),
        ];
        let distinct: std::collections::HashSet<_> = shapes.iter().collect();
        assert_eq!(distinct.len(), 5, "each difference is a shape of its own");
    }

    #[test]
    fn a_map_key_is_data() {
        let a = json!({"vars": {"rack_pdu": {"outlet": 3}}});
        let b = json!({"vars": {"rack_pdu": {"outlet": 4}}});
        let c = json!({"vars": {"rack_pdu": {}}});
        let d = json!({"vars": {"ipmi": {"outlet": 3}}});
        assert_eq!(of(&a), of(&b));
        assert_ne!(of(&a), of(&c), "a node without the nested key");
        assert_ne!(of(&a), of(&d), "another variable");
    }
}
