//! Backlog files and edits, checked before anything is written.
//!
//! A backlog file (what `corral import` reads and `corral export` writes) is a JSON array of
//! [`FeatureSpec`]s. [`parse_import`] turns text into specs, naming the item and field of every
//! type error; [`validate_import`] checks the specs against each other and the stored backlog
//! (ids, dependencies, cycles) and assigns missing ids; [`check_edit`] does the same for one
//! changed feature. Nothing here reads a file or the database: the caller passes the stored
//! dependency graph in and writes only what comes back `Ok`.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// At most this many problems are listed for one file; the rest are counted.
pub const MAX_ERRORS: usize = 20;

/// The largest feature id: ids are 1 to 999,999,999, so they stay positive, fit every
/// column and any JSON reader, and the next id can always be computed.
pub const MAX_FEATURE_ID: i64 = 999_999_999;

/// The stored backlog as the checks need it: every feature id with the ids it depends on.
pub type DependencyGraph = BTreeMap<i64, Vec<i64>>;

/// One feature of a backlog file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSpec {
    /// Assigned in order when absent: after the highest stored or given id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub name: String,
    pub category: String,
    pub description: String,
    pub steps: Vec<String>,
    /// Lower starts sooner.
    #[serde(default)]
    pub priority: i64,
    /// Ids of features in the same file or already stored.
    #[serde(default)]
    pub dependencies: Vec<i64>,
    /// The model for this feature's runs, before the profile's (checked when a run starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The effort for this feature's runs, before the profile's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    /// The profile to run it with, instead of the first enabled one of the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// What a problem is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The file as a whole (syntax, not an array).
    File,
    /// Item `index` of a file, counted from 1.
    Item { index: usize, name: Option<String> },
    /// A feature being added on its own (`corral feature add`).
    New { name: String },
    /// A stored feature being edited.
    Feature { id: i64, name: String },
}

/// One problem: its subject, the field (empty when it is about the whole subject) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacklogError {
    pub subject: Subject,
    pub field: String,
    pub message: String,
}

impl fmt::Display for BacklogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.subject {
            Subject::File => {}
            Subject::Item { index, name } => {
                write!(f, "item {index}")?;
                if let Some(name) = name.as_deref().filter(|n| !n.is_empty()) {
                    write!(f, " ({name:?})")?;
                }
                f.write_str(": ")?;
            }
            Subject::New { name } => write!(f, "new feature ({name:?}): ")?,
            Subject::Feature { id, name } => write!(f, "feature {id} ({name:?}): ")?,
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found (up to [`MAX_ERRORS`]) and how many more there were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacklogErrors {
    pub errors: Vec<BacklogError>,
    pub more: usize,
}

impl BacklogErrors {
    pub(crate) fn new(mut errors: Vec<BacklogError>) -> BacklogErrors {
        let more = errors.len().saturating_sub(MAX_ERRORS);
        errors.truncate(MAX_ERRORS);
        BacklogErrors { errors, more }
    }

    pub(crate) fn one(subject: Subject, field: &str, message: String) -> BacklogErrors {
        BacklogErrors::new(vec![BacklogError {
            subject,
            field: field.into(),
            message,
        }])
    }

    /// All problems found, the ones not listed included.
    pub fn count(&self) -> usize {
        self.errors.len() + self.more
    }
}

impl fmt::Display for BacklogErrors {
    /// One problem on one line; several as a count and one indented line each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let [only] = self.errors.as_slice()
            && self.more == 0
        {
            return write!(f, "{only}");
        }
        write!(f, "{} problems:", self.count())?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        if self.more > 0 {
            write!(f, "\n  ... and {} more", self.more)?;
        }
        Ok(())
    }
}

impl std::error::Error for BacklogErrors {}

/// Checks specs against each other and the stored backlog (`existing`), and returns them with
/// every id set and repeated dependencies dropped. Every problem is reported: empty names, bad
/// or duplicate ids, more than `max_dependencies` dependencies, unknown dependencies,
/// self-dependencies and dependency cycles through the new features.
pub fn validate_import(
    specs: Vec<FeatureSpec>,
    existing: &DependencyGraph,
    max_dependencies: u32,
) -> Result<Vec<FeatureSpec>, BacklogErrors> {
    let items = specs
        .into_iter()
        .enumerate()
        .map(|(i, spec)| Candidate {
            index: i + 1,
            label: Some(spec.name.clone()),
            spec,
            id_readable: true,
        })
        .collect();
    let (specs, errors) = check_items(items, existing, max_dependencies);
    if errors.is_empty() {
        Ok(specs)
    } else {
        Err(BacklogErrors::new(errors))
    }
}

/// One item of a backlog file as the cross-item checks see it. An item with type errors is
/// still checked with the fields that could be read, so its unknown dependencies and cycles
/// are reported in the same pass as its type errors.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// Counted from 1, as in the file (items that could not be read at all are skipped).
    pub index: usize,
    /// The name the problems are reported under (the file's own, even if unreadable).
    pub label: Option<String>,
    pub spec: FeatureSpec,
    /// False when the item gave an id of the wrong type: it then gets no id at all, so
    /// neither it nor the items numbered after it are checked under a made-up one.
    pub id_readable: bool,
}

/// The checks of [`validate_import`] over candidates; returns the specs (ids assigned) and
/// every problem found, in the order found.
pub(crate) fn check_items(
    items: Vec<Candidate>,
    existing: &DependencyGraph,
    max_dependencies: u32,
) -> (Vec<FeatureSpec>, Vec<BacklogError>) {
    let subject = |item: &Candidate| Subject::Item {
        index: item.index,
        name: item.label.clone(),
    };
    let mut errors = Vec::new();
    let mut push = |subject: Subject, field: &str, message: String| {
        errors.push(BacklogError {
            subject,
            field: field.into(),
            message,
        })
    };
    // Ids: given ones must be positive and new; the rest follow the highest of both.
    let mut given: HashMap<i64, usize> = HashMap::new();
    let mut bad_id: Vec<bool> = items.iter().map(|c| !c.id_readable).collect();
    for (i, item) in items.iter().enumerate() {
        let Some(id) = item.spec.id else { continue };
        let problem = if !(1..=MAX_FEATURE_ID).contains(&id) {
            Some(format!("must be between 1 and {MAX_FEATURE_ID}, not {id}"))
        } else if existing.contains_key(&id) {
            Some(format!(
                "duplicate id {id}: feature {id} is already in the backlog"
            ))
        } else if let Some(first) = given.get(&id) {
            Some(format!(
                "duplicate id {id}: item {} has it too",
                items[*first].index
            ))
        } else {
            given.insert(id, i);
            None
        };
        if let Some(message) = problem {
            bad_id[i] = true;
            push(subject(item), "id", message);
        }
    }
    let highest = existing
        .keys()
        .chain(given.keys())
        .copied()
        .max()
        .unwrap_or(0);
    let mut items = items;
    // A stored id above the limit (from an older corral) must not make the next one overflow.
    let mut next = highest.clamp(0, MAX_FEATURE_ID) + 1;
    for (i, item) in items.iter_mut().enumerate() {
        if !item.id_readable || item.spec.id.is_some() {
            continue;
        }
        if next > MAX_FEATURE_ID {
            let message = format!(
                "no id is left after {highest}: ids go up to {MAX_FEATURE_ID}; give this \
                 feature a free id below it"
            );
            push(subject(item), "id", message);
            bad_id[i] = true;
            // A placeholder no check will take for a real feature.
            item.spec.id = Some(0);
            continue;
        }
        item.spec.id = Some(next);
        next += 1;
    }
    let ids: HashSet<i64> = items.iter().filter_map(|c| c.spec.id).collect();
    let mut graph = existing.clone();
    for (i, item) in items.iter_mut().enumerate() {
        let id = item.spec.id;
        let spec = &mut item.spec;
        let subject = Subject::Item {
            index: item.index,
            name: item.label.clone(),
        };
        if spec.name.trim().is_empty() {
            push(subject.clone(), "name", "must not be empty".into());
        }
        dedup(&mut spec.dependencies);
        let deps = &spec.dependencies;
        if deps.len() > max_dependencies as usize {
            let message = too_many(deps.len(), max_dependencies);
            push(subject.clone(), "dependencies", message);
        }
        for &dep in deps {
            if Some(dep) == id {
                push(subject.clone(), "dependencies", "depends on itself".into());
            } else if !ids.contains(&dep) && !existing.contains_key(&dep) {
                let message = format!("unknown feature {dep}");
                push(subject.clone(), "dependencies", message);
            }
        }
        if let (false, Some(id)) = (bad_id[i], id) {
            graph.insert(id, deps.iter().copied().filter(|&d| d != id).collect());
        }
    }
    let order: HashMap<i64, usize> = items
        .iter()
        .enumerate()
        .filter(|(i, _)| !bad_id[*i])
        .filter_map(|(i, c)| Some((c.spec.id?, i)))
        .collect();
    let mut starts: Vec<(usize, i64)> = order.iter().map(|(&id, &i)| (i, id)).collect();
    starts.sort();
    let starts: Vec<i64> = starts.into_iter().map(|(_, id)| id).collect();
    for cycle in find_cycles(&graph, &starts, &order) {
        let item = &items[order[&cycle[0]]];
        push(subject(item), "dependencies", cycle_message(&cycle));
    }
    (items.into_iter().map(|c| c.spec).collect(), errors)
}

/// [`validate_import`] for one feature added on its own; problems name it by its name.
pub fn validate_new(
    spec: FeatureSpec,
    existing: &DependencyGraph,
    max_dependencies: u32,
) -> Result<FeatureSpec, BacklogErrors> {
    let name = spec.name.clone();
    match validate_import(vec![spec], existing, max_dependencies) {
        Ok(mut specs) => Ok(specs.remove(0)),
        Err(mut errors) => {
            for e in &mut errors.errors {
                e.subject = Subject::New { name: name.clone() };
            }
            Err(errors)
        }
    }
}

/// Checks a stored feature's new name and dependencies against the rest of the backlog;
/// returns the dependencies without repeats.
pub fn check_edit(
    existing: &DependencyGraph,
    id: i64,
    name: &str,
    mut dependencies: Vec<i64>,
    max_dependencies: u32,
) -> Result<Vec<i64>, BacklogErrors> {
    let subject = || Subject::Feature {
        id,
        name: name.to_string(),
    };
    let mut errors = Vec::new();
    let mut push = |field: &str, message: String| {
        errors.push(BacklogError {
            subject: subject(),
            field: field.into(),
            message,
        })
    };
    if name.trim().is_empty() {
        push("name", "must not be empty".into());
    }
    dedup(&mut dependencies);
    if dependencies.len() > max_dependencies as usize {
        push(
            "dependencies",
            too_many(dependencies.len(), max_dependencies),
        );
    }
    for &dep in &dependencies {
        if dep == id {
            push("dependencies", "depends on itself".into());
        } else if !existing.contains_key(&dep) {
            push("dependencies", format!("unknown feature {dep}"));
        }
    }
    let mut graph = existing.clone();
    let own: Vec<i64> = dependencies.iter().copied().filter(|&d| d != id).collect();
    graph.insert(id, own);
    let order = HashMap::from([(id, 0)]);
    for cycle in find_cycles(&graph, &[id], &order) {
        push("dependencies", cycle_message(&cycle));
    }
    if errors.is_empty() {
        Ok(dependencies)
    } else {
        Err(BacklogErrors::new(errors))
    }
}

/// Drops repeated ids, keeping the first of each.
fn dedup(ids: &mut Vec<i64>) {
    let mut seen = HashSet::new();
    ids.retain(|id| seen.insert(*id));
}

fn too_many(n: usize, max: u32) -> String {
    format!("{n} dependencies, more than the {max} allowed ([scheduler] max_dependencies)")
}

fn cycle_message(cycle: &[i64]) -> String {
    let ids: Vec<String> = cycle
        .iter()
        .chain(cycle.first())
        .map(i64::to_string)
        .collect();
    format!("cycle: {}", ids.join(" -> "))
}

/// Cycles reachable from `starts` that pass through a node in `order` (the new features), each
/// as the ids around it (`[4, 7, 9]` is 4 -> 7 -> 9 -> 4), rotated to begin at the new feature
/// that comes first in `order`. Each back edge of a depth-first search gives one cycle.
/// Edges to ids missing from `graph` are ignored.
fn find_cycles(
    graph: &DependencyGraph,
    starts: &[i64],
    order: &HashMap<i64, usize>,
) -> Vec<Vec<i64>> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Mark {
        Open,
        Done,
    }
    let mut marks: HashMap<i64, Mark> = HashMap::new();
    let mut cycles: Vec<Vec<i64>> = Vec::new();
    for &start in starts {
        if marks.contains_key(&start) || !graph.contains_key(&start) {
            continue;
        }
        marks.insert(start, Mark::Open);
        let mut stack: Vec<(i64, usize)> = vec![(start, 0)];
        while let Some(top) = stack.last_mut() {
            let (node, next) = *top;
            let deps = graph.get(&node).map_or(&[][..], Vec::as_slice);
            let Some(&dep) = deps.get(next) else {
                marks.insert(node, Mark::Done);
                stack.pop();
                continue;
            };
            top.1 += 1;
            match marks.get(&dep) {
                None if graph.contains_key(&dep) => {
                    marks.insert(dep, Mark::Open);
                    stack.push((dep, 0));
                }
                Some(Mark::Open) => {
                    let from = stack.iter().position(|(n, _)| *n == dep).unwrap_or(0);
                    let mut cycle: Vec<i64> = stack[from..].iter().map(|(n, _)| *n).collect();
                    let first_new = cycle
                        .iter()
                        .enumerate()
                        .filter_map(|(pos, id)| order.get(id).map(|o| (*o, pos)))
                        .min();
                    if let Some((_, pos)) = first_new {
                        cycle.rotate_left(pos);
                        if !cycles.contains(&cycle) {
                            cycles.push(cycle);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    cycles
}

pub use super::backlog_import::{check_import, parse_import};

#[cfg(test)]
#[path = "backlog_tests.rs"]
mod tests;
