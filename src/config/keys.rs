//! `[keys]`: the user's keys over the default keymap. This module only reads the table's
//! shape; the dashboard's keymap (`ui::keys_config`) checks the action names, the key strings
//! and conflicts, and `Config` asks it to while loading, so a bad `[keys]` is a config error
//! like any other.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// One `[keys]` entry: `action = keys`, or `[keys.context] action = keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRemap {
    /// The file it came from, as errors name it.
    pub source: String,
    /// The pane or view (`queue`), or `None` for everywhere the action works.
    pub context: Option<String>,
    pub action: String,
    /// The keys as written (`"P"`, `"ctrl-k"`).
    pub keys: Vec<String>,
}

/// The `[keys]` table as written.
#[derive(Debug, Default)]
pub(crate) struct RawKeys(pub BTreeMap<String, Entry>);

/// A value of `[keys]`: an action's keys, or a pane's table of them.
#[derive(Debug)]
pub(crate) enum Entry {
    Keys(Vec<String>),
    Pane(BTreeMap<String, KeyList>),
}

/// One key or a list of keys.
#[derive(Debug)]
pub(crate) struct KeyList(pub Vec<String>);

impl RawKeys {
    /// The entries in the order they apply: everywhere-bindings first, then each pane's.
    pub(crate) fn remaps(self, source: &str) -> Vec<KeyRemap> {
        let mut global = Vec::new();
        let mut panes = Vec::new();
        for (name, entry) in self.0 {
            match entry {
                Entry::Keys(keys) => global.push(KeyRemap {
                    source: source.into(),
                    context: None,
                    action: name,
                    keys,
                }),
                Entry::Pane(table) => {
                    panes.extend(table.into_iter().map(|(action, keys)| KeyRemap {
                        source: source.into(),
                        context: Some(name.clone()),
                        action,
                        keys: keys.0,
                    }))
                }
            }
        }
        global.extend(panes);
        global
    }
}

impl<'de> Deserialize<'de> for RawKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(RawKeys(BTreeMap::deserialize(d)?))
    }
}

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key (\"P\") or a list of keys ([\"x\", \"delete\"])")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(vec![v.to_string()])
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut keys = Vec::new();
        while let Some(k) = seq.next_element::<String>()? {
            keys.push(k);
        }
        Ok(keys)
    }
}

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListVisitor).map(KeyList)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key, a list of keys, or a pane's table ([keys.queue])")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Entry, E> {
        ListVisitor.visit_str(v).map(Entry::Keys)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Entry, A::Error> {
        ListVisitor.visit_seq(seq).map(Entry::Keys)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
        let mut table = BTreeMap::new();
        while let Some((k, v)) = map.next_entry::<String, KeyList>()? {
            table.insert(k, v);
        }
        Ok(Entry::Pane(table))
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EntryVisitor)
    }
}
