//! The executor's own JSON tree, for subgraph answers, representations and the
//! client's `data`.
//!
//! Why not `serde_json::Value`: with the `preserve_order` feature the workspace
//! needs, every object is an `IndexMap` — two allocations and a SipHash per key —
//! and every key and string its own heap allocation. A large answer is tens of
//! thousands of small objects built, merged and rebuilt per request, so that was
//! most of the router's CPU. Here an object is one `Vec` of entries in order
//! (GraphQL objects are small: a linear scan beats hashing), and strings of up to
//! 24 bytes — nearly every key, id and enum value — live inline.
//!
//! Subgraph answers are outside data: objects with many entries are merged and
//! made distinct through a hash index, never in quadratic time, and duplicate
//! keys are resolved as `serde_json` does (the last value, at the first position).
//! Single lookups stay linear: the shaper looks up only the fields a client
//! selected (bounded by the request limits) in objects answering that selection.

use std::cell::Cell;
use std::fmt;

use compact_str::CompactString;
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};
use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Number, Value};

/// A key of an object (a response key, nearly always inline).
pub type Key = CompactString;

/// A JSON value as the executor holds it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Data {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(CompactString),
    List(Vec<Data>),
    Object(Object),
}

/// A JSON object: its entries in order, keys distinct.
#[derive(Debug, Clone, Default)]
pub struct Object {
    entries: Vec<(Key, Data)>,
}

/// Objects up to this size are searched entry by entry; bulk work on larger ones
/// (only ever seen in outside data) goes through a hash index.
const LINEAR_SEARCH_MAX: usize = 32;

impl Data {
    pub fn is_null(&self) -> bool {
        matches!(self, Data::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Data::String(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Data::Object(object) => Some(object),
            _ => None,
        }
    }

    /// The value at `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Data> {
        self.as_object()?.get(key)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Data> {
        match self {
            Data::Object(object) => object.get_mut(key),
            _ => None,
        }
    }

    /// The item at `index` of a list.
    pub fn index(&self, index: usize) -> Option<&Data> {
        match self {
            Data::List(items) => items.get(index),
            _ => None,
        }
    }

    pub fn index_mut(&mut self, index: usize) -> Option<&mut Data> {
        match self {
            Data::List(items) => items.get_mut(index),
            _ => None,
        }
    }

    /// Takes the value, leaving null.
    pub fn take(&mut self) -> Data {
        std::mem::take(self)
    }

    /// As a `serde_json::Value`, for code outside the executor's hot path.
    pub fn into_json(self) -> Value {
        // Serialising to a `Value` cannot fail: every key is a string.
        serde_json::to_value(&self).unwrap_or_default()
    }

    /// Starts loading this list's items or this object's first entries into the
    /// cache, without waiting for them: walking the response tree down a flatten
    /// path touches objects last seen many requests ago, and the walk spent most of
    /// its time waiting on those loads one after the other. Asked for a whole level
    /// of the tree at once (`entities::prefetch_targets`), the loads overlap.
    #[inline]
    pub fn prefetch(&self) {
        match self {
            Data::List(items) => prefetch_bytes(items.as_ptr().cast(), size_of_val(&items[..])),
            Data::Object(object) => prefetch_bytes(
                object.entries.as_ptr().cast(),
                size_of_val(&object.entries[..]),
            ),
            _ => {}
        }
    }
}

/// Starts loading `value` itself into the cache (see [`Data::prefetch`]).
#[inline]
pub fn prefetch_value<T>(value: &T) {
    prefetch_bytes(std::ptr::from_ref(value).cast(), size_of::<T>());
}

/// How much of a list or object [`Data::prefetch`] asks for: a handful of entries
/// covers the keys a path step scans in nearly every GraphQL object.
const PREFETCH_MAX_BYTES: usize = 256;
const CACHE_LINE: usize = 64;

#[inline]
fn prefetch_bytes(start: *const u8, len: usize) {
    let mut offset = 0;
    while offset < len.min(PREFETCH_MAX_BYTES) {
        prefetch_line(start.wrapping_add(offset));
        offset += CACHE_LINE;
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn prefetch_line(address: *const u8) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: a prefetch is only a hint: it never dereferences the address for the
    // program, cannot fault, and changes no memory. `sse` is part of the x86_64
    // baseline, so the instruction always exists.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(address.cast()) }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn prefetch_line(_address: *const u8) {}

impl From<Value> for Data {
    fn from(value: Value) -> Data {
        // Every JSON value deserialises as `Data`.
        Data::deserialize(value).unwrap_or_default()
    }
}

impl From<&str> for Data {
    fn from(text: &str) -> Data {
        Data::String(text.into())
    }
}

/// JSON text, as `serde_json::Value` prints (used in error messages).
impl fmt::Display for Data {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        formatter.write_str(&text)
    }
}

impl Object {
    pub fn new() -> Object {
        Object::default()
    }

    pub fn with_capacity(capacity: usize) -> Object {
        Object {
            entries: Vec::with_capacity(capacity),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|(known, _)| same_key(known, key))
    }

    pub fn get(&self, key: &str) -> Option<&Data> {
        self.entries
            .iter()
            .find(|(known, _)| same_key(known, key))
            .map(|(_, value)| value)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Data> {
        self.entries
            .iter_mut()
            .find(|(known, _)| same_key(known, key))
            .map(|(_, value)| value)
    }

    /// Sets `key` to `value`: in place when present, else at the end.
    pub fn insert(&mut self, key: &str, value: Data) {
        match self.position(key) {
            Some(index) => self.entries[index].1 = value,
            None => self.entries.push((Key::from(key), value)),
        }
    }

    /// Appends an entry whose key the caller knows is not there yet.
    pub fn push_new(&mut self, key: Key, value: Data) {
        debug_assert!(self.position(&key).is_none(), "duplicate key {key}");
        self.entries.push((key, value));
    }

    /// Moves the entry at `key` to position `at` (making a null one when there is
    /// none) and gives its value: an object is put in a selection's order in
    /// place, without building another. The keys before `at` must be other ones
    /// (those already placed).
    pub fn place(&mut self, at: usize, key: &str) -> &mut Data {
        let at = at.min(self.entries.len());
        debug_assert!(self.entries[..at].iter().all(|(known, _)| known != key));
        match self.entries[at..]
            .iter()
            .position(|(known, _)| same_key(known, key))
        {
            Some(offset) => self.entries.swap(at, at + offset),
            None => self.entries.insert(at, (Key::from(key), Data::Null)),
        }
        &mut self.entries[at].1
    }

    /// Keeps the first `len` entries.
    pub fn truncate(&mut self, len: usize) {
        self.entries.truncate(len);
    }

    pub fn remove(&mut self, key: &str) -> Option<Data> {
        let index = self.position(key)?;
        Some(self.entries.remove(index).1)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Data)> {
        self.entries
            .iter()
            .map(|(key, value)| (key.as_str(), value))
    }

    /// Merges `source` into this object entry by entry (`merge` decides what a
    /// key present on both sides becomes), hashing keys when the objects are large.
    pub fn merge_with(&mut self, source: Object, mut merge: impl FnMut(&mut Data, Data)) {
        // Scanning is for small merges only: the object grows as the source's new keys
        // are added, so a large source (even into a small or empty object) is indexed.
        let merged_at_most = self.entries.len() + source.entries.len();
        if merged_at_most <= LINEAR_SEARCH_MAX || source.entries.len() <= 1 {
            for (key, value) in source.entries {
                match self.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => self.entries.push((key, value)),
                }
            }
            return;
        }
        let mut index: FxHashMap<Key, usize> =
            FxHashMap::with_capacity_and_hasher(self.entries.len(), FxBuildHasher);
        for (position, (key, _)) in self.entries.iter().enumerate() {
            index.entry(key.clone()).or_insert(position);
        }
        for (key, value) in source.entries {
            match index.get(&key) {
                Some(&position) => merge(&mut self.entries[position].1, value),
                None => {
                    index.insert(key.clone(), self.entries.len());
                    self.entries.push((key, value));
                }
            }
        }
    }

    /// Makes keys distinct as `serde_json` would: the last value, at the first position.
    fn deduplicate(&mut self) {
        let has_duplicates = if self.entries.len() <= LINEAR_SEARCH_MAX {
            self.entries.iter().enumerate().any(|(at, (key, _))| {
                self.entries[..at]
                    .iter()
                    .any(|(seen, _)| same_key(seen, key))
            })
        } else {
            let mut seen = FxHashSet::with_capacity_and_hasher(self.entries.len(), FxBuildHasher);
            !self
                .entries
                .iter()
                .all(|(key, _)| seen.insert(key.as_str()))
        };
        if has_duplicates {
            let entries = std::mem::take(&mut self.entries);
            let mut distinct = Object::with_capacity(entries.len());
            distinct.merge_with(Object { entries }, |existing, value| *existing = value);
            *self = distinct;
        }
    }
}

/// Keys are short and mostly differ in length or first byte: those are compared
/// before the bytes, sparing a `memcmp` call per entry passed over in a search.
#[inline]
fn same_key(known: &str, key: &str) -> bool {
    let (known, key) = (known.as_bytes(), key.as_bytes());
    known.len() == key.len() && known.first() == key.first() && same_short_bytes(known, key)
}

/// Equal byte strings of one length. Up to 16 bytes (nearly every key: `id` and
/// `upc` too) they are compared as two overlapping words, not through a `memcmp` call: key
/// comparisons were 7% of the router's time on the federation benchmark.
#[inline]
fn same_short_bytes(one: &[u8], other: &[u8]) -> bool {
    fn word<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
        let mut word = [0; N];
        word.copy_from_slice(&bytes[at..at + N]);
        word
    }
    let len = one.len();
    match len {
        8..=16 => {
            word::<8>(one, 0) == word::<8>(other, 0)
                && word::<8>(one, len - 8) == word::<8>(other, len - 8)
        }
        4..=7 => {
            word::<4>(one, 0) == word::<4>(other, 0)
                && word::<4>(one, len - 4) == word::<4>(other, len - 4)
        }
        2..=3 => {
            word::<2>(one, 0) == word::<2>(other, 0)
                && word::<2>(one, len - 2) == word::<2>(other, len - 2)
        }
        1 => one[0] == other[0],
        0 => true,
        _ => one == other,
    }
}

/// Equal as JSON objects are: the same keys with equal values, in any order.
impl PartialEq for Object {
    fn eq(&self, other: &Object) -> bool {
        self.len() == other.len()
            && (self.entries.iter().zip(&other.entries).all(|(a, b)| a == b)
                || self
                    .iter()
                    .all(|(key, value)| other.get(key) == Some(value)))
    }
}

impl FromIterator<(Key, Data)> for Object {
    fn from_iter<I: IntoIterator<Item = (Key, Data)>>(entries: I) -> Object {
        let mut object = Object {
            entries: entries.into_iter().collect(),
        };
        object.deduplicate();
        object
    }
}

impl IntoIterator for Object {
    type Item = (Key, Data);
    type IntoIter = std::vec::IntoIter<(Key, Data)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Data::Null => serializer.serialize_unit(),
            Data::Bool(flag) => serializer.serialize_bool(*flag),
            Data::Number(number) => number.serialize(serializer),
            Data::String(text) => serializer.serialize_str(text),
            Data::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Data::Object(object) => object.serialize(serializer),
        }
    }
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, value) in &self.entries {
            map.serialize_entry(key.as_str(), value)?;
        }
        map.end()
    }
}

/// `Data::write_json` passed its cap.
#[derive(Debug, PartialEq)]
pub struct OverCap;

impl Data {
    /// Appends this value's JSON text (as `serde_json` writes it) to `out`, and stops
    /// once `out` is longer than `cap`. The hot end of every response: written
    /// straight into the buffer, not token by token through `io::Write`.
    pub fn write_json(&self, out: &mut Vec<u8>, cap: usize) -> Result<(), OverCap> {
        match self {
            Data::Null => out.extend_from_slice(b"null"),
            Data::Bool(true) => out.extend_from_slice(b"true"),
            Data::Bool(false) => out.extend_from_slice(b"false"),
            // Numbers are few beside strings: serde_json's own formatting (ryu, itoa).
            Data::Number(number) => {
                serde_json::to_writer(&mut *out, number).map_err(|_| OverCap)?
            }
            Data::String(text) => write_json_string(text, out),
            Data::List(items) => {
                out.push(b'[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    item.write_json(out, cap)?;
                }
                out.push(b']');
            }
            Data::Object(object) => {
                out.push(b'{');
                for (index, (key, value)) in object.entries.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    write_json_string(key, out);
                    out.push(b':');
                    value.write_json(out, cap)?;
                }
                out.push(b'}');
            }
        }
        if out.len() > cap {
            return Err(OverCap);
        }
        Ok(())
    }
}

/// Bytes a JSON string cannot hold as they are: control characters, `"` and the backslash.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// A JSON string: runs that need no escape copied whole, the rest escaped as serde_json does.
fn write_json_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut run_start = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        if !NEEDS_ESCAPE[usize::from(byte)] {
            continue;
        }
        out.extend_from_slice(&bytes[run_start..at]);
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
            }
        }
        run_start = at + 1;
    }
    out.extend_from_slice(&bytes[run_start..]);
    out.push(b'"');
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Data, D::Error> {
        // The thread's stacks are taken for the whole parse and handed down to every
        // nested value (not looked up per value), then given back emptied.
        let mut stacks = PENDING.take();
        let parsed = DataSeed {
            stacks: &mut stacks,
        }
        .deserialize(deserializer);
        stacks.clear_for_reuse();
        PENDING.set(stacks);
        parsed
    }
}

// Parsing collects the items of every list and object being read on stacks (nested
// ones above their parents), and each is then allocated once, at its exact size: no
// growing `Vec` per node (a reallocation and copy for every object past four
// entries), and no spare capacity left in the tree. The stacks are kept per thread
// between parses.
#[derive(Default)]
struct PendingStacks {
    items: Vec<Data>,
    entries: Vec<(Key, Data)>,
}

thread_local! {
    static PENDING: Cell<PendingStacks> = Cell::default();
}

/// A stack's capacity kept between parses; a larger one (left by a huge list) is given back.
const PENDING_KEPT: usize = 4096;

impl PendingStacks {
    /// Empty (a failed parse leaves its partial values behind), and not oversized.
    fn clear_for_reuse(&mut self) {
        self.items.clear();
        self.entries.clear();
        if self.items.capacity() > PENDING_KEPT {
            self.items = Vec::new();
        }
        if self.entries.capacity() > PENDING_KEPT {
            self.entries = Vec::new();
        }
    }
}

/// Parses one value (and everything in it) on the parse's pending stacks.
struct DataSeed<'s> {
    stacks: &'s mut PendingStacks,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Data;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Data, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = Data;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_none<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Data, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_bool<E>(self, flag: bool) -> Result<Data, E> {
        Ok(Data::Bool(flag))
    }

    fn visit_i64<E>(self, number: i64) -> Result<Data, E> {
        Ok(Data::Number(number.into()))
    }

    fn visit_u64<E>(self, number: u64) -> Result<Data, E> {
        Ok(Data::Number(number.into()))
    }

    fn visit_f64<E>(self, number: f64) -> Result<Data, E> {
        // JSON has no NaN or infinity; a parser never hands one over.
        Ok(Number::from_f64(number).map_or(Data::Null, Data::Number))
    }

    fn visit_str<E>(self, text: &str) -> Result<Data, E> {
        Ok(Data::String(CompactString::new(text)))
    }

    fn visit_string<E>(self, text: String) -> Result<Data, E> {
        Ok(Data::String(text.into()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let start = self.stacks.items.len();
        while let Some(item) = seq.next_element_seed(DataSeed {
            stacks: &mut *self.stacks,
        })? {
            self.stacks.items.push(item);
        }
        Ok(Data::List(self.stacks.items.drain(start..).collect()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let start = self.stacks.entries.len();
        while let Some(key) = map.next_key::<Key>()? {
            let value = map.next_value_seed(DataSeed {
                stacks: &mut *self.stacks,
            })?;
            self.stacks.entries.push((key, value));
        }
        let mut object = Object {
            entries: self.stacks.entries.drain(start..).collect(),
        };
        object.deduplicate();
        Ok(Data::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_parse_that_fails_halfway_leaves_nothing_behind_for_the_next() {
        for broken in [
            r#"{"a":[1,2,{"b":"#,
            r#"[{"x":1},[true,"#,
            r#"{"k":{"l":[1,}"#,
        ] {
            assert!(serde_json::from_str::<Data>(broken).is_err(), "{broken}");
            let data: Data = serde_json::from_str(r#"{"x":[3,{"y":null}]}"#).expect("parses");
            assert_eq!(
                data.into_json(),
                json!({"x": [3, {"y": null}]}),
                "after {broken}"
            );
        }
        let stacks = PENDING.take();
        assert_eq!((stacks.items.len(), stacks.entries.len()), (0, 0));
    }

    #[test]
    fn objects_and_lists_are_allocated_at_their_exact_size() {
        let data: Data =
            serde_json::from_str(r#"{"a":1,"b":2,"c":3,"d":4,"e":[1,2,3,4,5]}"#).expect("parses");
        let Data::Object(object) = &data else {
            panic!("an object: {data}")
        };
        assert_eq!(object.entries.capacity(), 5);
        let Some(Data::List(items)) = object.get("e") else {
            panic!("a list: {data}")
        };
        assert_eq!(items.capacity(), 5);
    }

    #[test]
    fn short_keys_compare_equal_only_when_every_byte_is() {
        let keys = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "reviews",
            "reviewz",
            "rEviews",
        ];
        for one in keys {
            for other in keys {
                assert_eq!(same_key(one, other), one == other, "{one:?} vs {other:?}");
            }
            // Every single-byte change, at every position, is seen.
            for at in 0..one.len() {
                let mut changed = one.as_bytes().to_vec();
                changed[at] ^= 0x20;
                let changed = String::from_utf8(changed).expect("ASCII");
                assert!(!same_key(one, &changed), "{one:?} vs {changed:?}");
            }
        }
    }

    #[test]
    fn round_trips_json_and_keeps_key_order() {
        let text = r#"{"z":1,"a":[true,null,"x",1.5,-3],"m":{"long key beyond twenty-four bytes":"and a long value beyond the inline size"}}"#;
        let data: Data = serde_json::from_str(text).expect("parses");
        assert_eq!(serde_json::to_string(&data).expect("prints"), text);
        assert_eq!(
            data.clone().into_json(),
            serde_json::from_str::<Value>(text).expect("parses")
        );
        assert_eq!(Data::from(data.clone().into_json()), data);
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_at_the_first_place_as_serde_json_does() {
        let text = r#"{"a":1,"b":2,"a":3}"#;
        let data: Data = serde_json::from_str(text).expect("parses");
        let expected: Value = serde_json::from_str(text).expect("parses");
        assert_eq!(serde_json::to_value(&data).expect("converts"), expected);
        assert_eq!(expected, json!({"a": 3, "b": 2}));

        // The same through the hash index of a large object.
        let mut large: String = (0..100).map(|n| format!("\"k{n}\":{n},")).collect();
        large.push_str("\"k7\":\"last\"");
        let data: Data = serde_json::from_str(&format!("{{{large}}}")).expect("parses");
        let object = data.as_object().expect("an object");
        assert_eq!(object.len(), 100);
        assert_eq!(object.get("k7"), Some(&Data::from("last")));
        assert_eq!(object.iter().nth(7).map(|(key, _)| key), Some("k7"));
    }

    #[test]
    fn written_json_is_serde_jsons_to_the_byte_and_stops_at_the_cap() {
        let mut strings: Vec<String> = (0u8..0x80)
            .map(|byte| char::from(byte).to_string())
            .collect();
        strings.extend([
            "plain".into(),
            "é ✓ 𝄞 \u{2028}".into(),
            "a\"b\\c\nd\u{7f}".into(),
        ]);
        let value = json!({
            "strings": strings,
            "numbers": [0, -1, u64::MAX, i64::MIN, 1.5, -0.25, 1e300, 2.0],
            "nested": {"empty": {}, "list": [], "null": null, "flags": [true, false]},
            "key \"with\" escapes\u{1}": "v",
        });
        let data = Data::from(value.clone());
        let mut written = Vec::new();
        data.write_json(&mut written, usize::MAX).expect("no cap");
        assert_eq!(
            String::from_utf8(written.clone()).expect("UTF-8"),
            serde_json::to_string(&value).expect("serialises")
        );
        let mut capped = Vec::new();
        assert_eq!(data.write_json(&mut capped, 100), Err(OverCap));
        assert!(capped.len() < written.len(), "it stopped early");
    }

    #[test]
    fn objects_are_equal_whatever_their_key_order() {
        let one: Data = serde_json::from_str(r#"{"a":1,"b":2}"#).expect("parses");
        let other: Data = serde_json::from_str(r#"{"b":2,"a":1}"#).expect("parses");
        assert_eq!(one, other);
        let different: Data = serde_json::from_str(r#"{"b":2,"a":2}"#).expect("parses");
        assert_ne!(one, different);
    }

    #[test]
    fn merging_large_objects_goes_through_the_index() {
        let mut target: Object = (0..1000)
            .map(|n| (Key::from(format!("k{n}")), Data::Number(n.into())))
            .collect();
        let source: Object = (500..1500)
            .map(|n| (Key::from(format!("k{n}")), Data::Bool(true)))
            .collect();
        target.merge_with(source, |existing, value| *existing = value);
        assert_eq!(target.len(), 1500);
        assert_eq!(target.get("k499"), Some(&Data::Number(499.into())));
        assert_eq!(target.get("k500"), Some(&Data::Bool(true)));
        assert_eq!(target.iter().last().map(|(key, _)| key), Some("k1499"));

        // A large source into a small object: indexed too, keys still distinct.
        let mut small: Object = [(Key::from("k3"), Data::Null)].into_iter().collect();
        let source: Object = (0..1000)
            .map(|n| (Key::from(format!("k{n}")), Data::Bool(true)))
            .collect();
        small.merge_with(source, |existing, value| *existing = value);
        assert_eq!(small.len(), 1000);
        assert_eq!(small.iter().next(), Some(("k3", &Data::Bool(true))));
    }
}
