//! `corral import FILE` and `corral export`: the backlog as a JSON file, in and out.
//!
//! An import is checked whole (syntax, types, ids, dependencies, cycles against the stored
//! backlog) inside one write transaction and written only if every item is right, so a bad file
//! leaves the database exactly as it was.

use super::backlog::{
    BacklogCommandError, Result, emit, emit_json, max_dependencies, notify, open_store,
};
use crate::core::backlog::{FeatureSpec, check_import};
use crate::runtime::now_ms;
use crate::runtime::store::backlog::{dependency_graph, insert_features};
use std::io::Read;
use std::path::Path;

/// Reads `file` (`-`: stdin) and adds its features to the backlog, all or nothing.
pub fn import_backlog(project: &Path, file: &Path) -> Result<()> {
    let (label, text) = read(file)?;
    let refused = |e| BacklogCommandError::Refused(format!("{label}: {e}\nnothing was imported"));
    let max = max_dependencies(project)?;
    let roles = super::backlog::profile_roles(project)?;
    let mut store = open_store(project)?;
    let specs: Vec<FeatureSpec> = store.write(|conn| {
        let specs = check_import(&text, &dependency_graph(conn)?, max, &roles).map_err(refused)?;
        insert_features(conn, &specs, now_ms())?;
        Ok::<_, BacklogCommandError>(specs)
    })?;
    if !specs.is_empty() {
        notify(project);
    }
    let ids: Vec<i64> = specs.iter().filter_map(|s| s.id).collect();
    let word = if ids.len() == 1 {
        "feature"
    } else {
        "features"
    };
    match (ids.iter().min(), ids.iter().max()) {
        (Some(lo), Some(hi)) if lo == hi => emit(&format!("imported 1 feature (id {lo})"))?,
        (Some(lo), Some(hi)) => emit(&format!("imported {} {word} (ids {lo}..{hi})", ids.len()))?,
        _ => emit("imported 0 features")?,
    }
    Ok(())
}

fn read(file: &Path) -> Result<(String, String)> {
    let mut text = String::new();
    if file == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| BacklogCommandError::Read {
                path: "stdin".into(),
                source,
            })?;
        return Ok(("stdin".into(), text));
    }
    let label = file.display().to_string();
    text = std::fs::read_to_string(file).map_err(|source| BacklogCommandError::Read {
        path: label.clone(),
        source,
    })?;
    Ok((label, text))
}

/// Prints the whole backlog as a JSON array in the import format, by id.
pub fn export_backlog(project: &Path) -> Result<()> {
    let specs: Vec<FeatureSpec> = open_store(project)?
        .feature_records()?
        .iter()
        .map(|f| f.spec())
        .collect();
    emit_json(&specs)
}
