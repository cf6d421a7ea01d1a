//! Observed-state inputs: what the fleet reported about itself, read from
//! the files the usual tools leave behind.
//!
//! One module per format, each a pure function from a file's text to typed
//! observations (plus the problems it found), so the parsers are tested
//! without a disk. This module is the edge that reads the files: a
//! directory of per-host files (LLDP dumps, Ansible fact cache, FRR BGP
//! summaries) or one file (Kea leases). Files are read and parsed in
//! parallel and collected in path order, so what follows never depends on
//! thread scheduling. A file that cannot be read or parsed becomes an
//! [`InputProblem`] (reported as SC1008) and never stops the others.

pub mod bgp;
pub mod facts;
pub mod leases;
pub mod lldp;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// A problem with one input file. `range` is a byte range in `text` when
/// the problem has a place (a JSON syntax error, a CSV row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputProblem {
    /// The file as the user named it (directory given + file name).
    pub path: String,
    pub message: String,
    /// The file's text, kept only for problems that point into it.
    pub text: Option<String>,
    pub range: Option<(usize, usize)>,
    /// Whether the whole file was lost (as opposed to one row or entry).
    pub fatal: bool,
    /// Not a broken file but one larger than what is kept (SC1013): the
    /// rest of it was counted, not compared.
    pub truncated: bool,
}

/// A problem found while parsing, before the caller knows the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseProblem {
    pub message: String,
    pub range: Option<(usize, usize)>,
}

impl ParseProblem {
    pub fn new(message: impl Into<String>) -> ParseProblem {
        ParseProblem {
            message: message.into(),
            range: None,
        }
    }

    /// A serde_json error, located at its line and column in `text`.
    pub fn json(text: &str, e: &serde_json::Error) -> ParseProblem {
        let offset = offset_of(text, e.line(), e.column());
        // serde_json's message ends with " at line L column C": the span
        // says that already.
        let msg = e.to_string();
        let msg = match msg.rfind(" at line ") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        };
        ParseProblem {
            message: format!("not valid JSON: {msg}"),
            range: Some((offset, offset)),
        }
    }
}

/// Byte offset of a 1-based line and column (columns counted in bytes, as
/// serde_json does); clamped to the text.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0usize;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[start..]
        .find('\n')
        .map(|i| start + i)
        .unwrap_or(text.len());
    let mut off = (start + column.saturating_sub(1)).min(line_end);
    while !text.is_char_boundary(off) {
        off -= 1;
    }
    off
}

/// One file read from an input directory.
#[derive(Debug, Clone)]
pub struct RawFile {
    /// Path for messages: the directory as given, joined with the name.
    pub path: String,
    /// File name without a `.json` extension: the host it describes.
    pub host: String,
    pub text: String,
}

/// Where to read observed state from (any may be absent).
#[derive(Debug, Clone, Default)]
pub struct InputPaths {
    pub lldp: Option<PathBuf>,
    pub facts: Option<PathBuf>,
    pub leases: Option<PathBuf>,
    pub bgp: Option<PathBuf>,
}

/// Everything observed, parsed, in path order, plus every problem found.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub lldp: Vec<lldp::LldpDump>,
    pub facts: Vec<facts::HostFacts>,
    /// The leases in effect after replaying the file (see [`leases`]).
    pub leases: Vec<leases::Lease>,
    pub leases_path: Option<String>,
    /// Leases of the fleet whose address a later row gave to another
    /// client (see [`leases::Parsed::displaced`]).
    pub displaced_leases: Vec<leases::Lease>,
    pub bgp: Vec<bgp::BgpSummary>,
    pub problems: Vec<InputProblem>,
    /// How many files (or lease rows) each input held.
    pub counts: InputCounts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct InputCounts {
    pub lldp_files: usize,
    pub facts_files: usize,
    pub lease_rows: usize,
    pub leases: usize,
    /// Leases that had lapsed when the file was written: not compared.
    #[serde(skip_serializing_if = "is_zero")]
    pub lapsed_leases: usize,
    /// Fleet leases whose address another client took.
    #[serde(skip_serializing_if = "is_zero")]
    pub displaced_leases: usize,
    pub bgp_files: usize,
    pub bad_files: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// An input path that could not be used at all (missing directory, a
/// file where a directory was expected): the run cannot be trusted, since
/// every node would look unseen, so the caller stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputPathError {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for InputPathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

fn display(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Lists the regular files of an input directory, sorted by name. Hidden
/// files (`.gitkeep`, editor swap files) are not hosts and are skipped;
/// subdirectories are not descended into (each tool writes one flat
/// directory).
pub fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, InputPathError> {
    let err = |m: String| InputPathError {
        path: display(dir),
        message: m,
    };
    if !dir.is_dir() {
        return Err(err(if dir.exists() {
            "is not a directory".to_string()
        } else {
            "no such directory".to_string()
        }));
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| err(e.to_string()))? {
        let entry = entry.map_err(|e| err(e.to_string()))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The host a per-host file describes: its name without `.json`.
pub fn host_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.strip_suffix(".json") {
        Some(h) => h.to_string(),
        None => name,
    }
}

/// The largest input file read, as for project files: the machines write
/// these, so a huge one is refused before it is read.
pub const MAX_INPUT_BYTES: u64 = crate::source::MAX_FILE_BYTES;

/// How many lease clients no node accounts for are kept (unknown MACs,
/// declined leases); the rows of any more are counted (SC1013). The report
/// shows 100 findings of a code per file anyway.
pub const MAX_OTHER_LEASES: usize = 1000;

fn read_text(path: &Path) -> Result<String, String> {
    let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if len > MAX_INPUT_BYTES {
        return Err(format!(
            "file is {len} bytes, over the limit of {MAX_INPUT_BYTES} bytes; it was not read"
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "file is not valid UTF-8".to_string())
}

/// Reads every file of a directory in parallel; unreadable files become
/// problems. Results keep the directory's sorted order; `count` is told
/// how many files there were, readable or not.
fn read_dir_files(
    dir: &Path,
    count: &mut usize,
    problems: &mut Vec<InputProblem>,
) -> Result<Vec<RawFile>, InputPathError> {
    let paths = list_dir(dir)?;
    *count = paths.len();
    let read: Vec<(String, String, Result<String, String>)> = paths
        .par_iter()
        .map(|p| (display(p), host_of(p), read_text(p)))
        .collect();
    let mut out = Vec::with_capacity(read.len());
    for (path, host, r) in read {
        match r {
            Ok(text) => out.push(RawFile { path, host, text }),
            Err(message) => problems.push(InputProblem {
                path,
                message: format!("cannot read: {message}"),
                text: None,
                range: None,
                fatal: true,
                truncated: false,
            }),
        }
    }
    Ok(out)
}

/// Turns parse problems of one file into input problems. The file's text
/// goes with its first problem only: the report adds it once (so that
/// every problem names the file and a line, in JSON too), and a file of
/// many bad rows must not be copied for each.
fn attach(problems: &mut Vec<InputProblem>, file: &RawFile, found: Vec<ParseProblem>, fatal: bool) {
    let mut text = Some(());
    for p in found {
        problems.push(InputProblem {
            path: file.path.clone(),
            message: p.message,
            text: text.take().map(|_| file.text.clone()),
            range: p.range,
            fatal,
            truncated: false,
        });
    }
}

/// Parses a directory of per-host files with `parse`, in parallel.
fn parse_dir<T: Send>(
    files: &[RawFile],
    parse: impl Fn(&RawFile) -> (Option<T>, Vec<ParseProblem>) + Sync,
    problems: &mut Vec<InputProblem>,
) -> Vec<T> {
    let parsed: Vec<(Option<T>, Vec<ParseProblem>)> = files.par_iter().map(&parse).collect();
    let mut out = Vec::with_capacity(parsed.len());
    for (file, (value, found)) in files.iter().zip(parsed) {
        let fatal = value.is_none();
        attach(problems, file, found, fatal);
        if let Some(v) = value {
            out.push(v);
        }
    }
    out
}

/// Reads and parses every input given, keeping every lease. Errors in
/// single files are collected in `problems`; only an unusable input path
/// is an `Err`.
pub fn read(paths: &InputPaths) -> Result<Observed, InputPathError> {
    read_limited(paths, &|_, _| true)
}

/// [`read`], keeping the leases of MACs `known` accepts (the declared
/// fleet's; it is told the client's host name too) and of at most
/// [`MAX_OTHER_LEASES`] other clients, so that memory follows the
/// declared fleet, not the rows of a file the machines write. MACs the
/// fact files show are kept too (a replaced NIC of a known node).
pub fn read_limited(
    paths: &InputPaths,
    known: &(dyn Fn(crate::model::Mac, Option<&str>) -> bool + Sync),
) -> Result<Observed, InputPathError> {
    let mut obs = Observed::default();
    let mut problems = Vec::new();
    if let Some(dir) = &paths.lldp {
        let files = read_dir_files(dir, &mut obs.counts.lldp_files, &mut problems)?;
        obs.lldp = parse_dir(
            &files,
            |f| lldp::parse(&f.host, &f.path, &f.text),
            &mut problems,
        );
    }
    if let Some(dir) = &paths.facts {
        let files = read_dir_files(dir, &mut obs.counts.facts_files, &mut problems)?;
        obs.facts = parse_dir(
            &files,
            |f| facts::parse(&f.host, &f.path, &f.text),
            &mut problems,
        );
    }
    if let Some(dir) = &paths.bgp {
        let files = read_dir_files(dir, &mut obs.counts.bgp_files, &mut problems)?;
        obs.bgp = parse_dir(
            &files,
            |f| bgp::parse(&f.host, &f.path, &f.text),
            &mut problems,
        );
    }
    if let Some(file) = &paths.leases {
        if !file.is_file() {
            return Err(InputPathError {
                path: display(file),
                message: if file.exists() {
                    "is not a file".into()
                } else {
                    "no such file".into()
                },
            });
        }
        let path = display(file);
        obs.leases_path = Some(path.clone());
        match read_text(file) {
            Err(message) => problems.push(InputProblem {
                path,
                message: format!("cannot read: {message}"),
                text: None,
                range: None,
                fatal: true,
                truncated: false,
            }),
            Ok(text) => {
                let facts_macs: std::collections::HashSet<crate::model::Mac> = obs
                    .facts
                    .iter()
                    .flat_map(|f| f.interfaces.iter().filter_map(|i| i.mac))
                    .collect();
                let keep = |m, h: Option<&str>| facts_macs.contains(&m) || known(m, h);
                let parsed = leases::parse_limited(
                    &path,
                    &text,
                    &leases::Limits {
                        known: &keep,
                        max_other: MAX_OTHER_LEASES,
                    },
                );
                obs.counts.lease_rows = parsed.rows;
                obs.counts.lapsed_leases = parsed.lapsed;
                obs.counts.displaced_leases = parsed.displaced.len();
                obs.leases = parsed.leases;
                obs.displaced_leases = parsed.displaced;
                let raw = RawFile {
                    path,
                    host: String::new(),
                    text,
                };
                attach(&mut problems, &raw, parsed.problems, parsed.fatal);
                if parsed.dropped_rows > 0 {
                    problems.push(InputProblem {
                        path: raw.path.clone(),
                        message: format!(
                            "more than {MAX_OTHER_LEASES} clients that no node accounts for: the first {MAX_OTHER_LEASES} are compared, {} later row(s) of other clients were counted, not compared",
                            parsed.dropped_rows
                        ),
                        text: None,
                        range: None,
                        fatal: false,
                        truncated: true,
                    });
                }
            }
        }
    }
    obs.counts.leases = obs.leases.len();
    let mut bad: Vec<&str> = problems
        .iter()
        .filter(|p| p.fatal)
        .map(|p| p.path.as_str())
        .collect();
    bad.dedup();
    obs.counts.bad_files = bad.len();
    obs.problems = problems;
    Ok(obs)
}

/// Reads the JSON value of a file, or says where it is broken.
pub fn parse_json(text: &str) -> Result<serde_json::Value, ParseProblem> {
    parse_json_pruned(text, &[])
}

/// [`parse_json`], skipping (checked for syntax, never built) the values
/// of object keys in `skip` at any depth: tool output carries much that
/// the comparison never reads (capabilities, autonegotiation, ages), and
/// on a large fleet building it costs more than the comparison itself.
pub fn parse_json_pruned(
    text: &str,
    skip: &'static [&'static str],
) -> Result<serde_json::Value, ParseProblem> {
    use serde::de::DeserializeSeed;
    if text.trim().is_empty() {
        return Err(ParseProblem::new("file is empty"));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    Pruned { skip }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|_| v))
        .map_err(|e| ParseProblem::json(text, &e))
}

/// A JSON value without the values of some keys.
#[derive(Clone, Copy)]
struct Pruned {
    skip: &'static [&'static str],
}

impl<'de> serde::de::DeserializeSeed<'de> for Pruned {
    type Value = serde_json::Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Pruned {
    type Value = serde_json::Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(serde_json::Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = m.next_key::<String>()? {
            if self.skip.contains(&key.as_str()) {
                m.next_value::<serde::de::IgnoredAny>()?;
            } else {
                let v = m.next_value_seed(self)?;
                out.insert(key, v);
            }
        }
        Ok(serde_json::Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        let t = "ab\ncdé\nf";
        assert_eq!(offset_of(t, 1, 1), 0);
        assert_eq!(offset_of(t, 2, 2), 4);
        assert_eq!(offset_of(t, 2, 99), 7);
        assert_eq!(offset_of(t, 9, 1), t.len());
        // Never inside a multi-byte character.
        assert!(t.is_char_boundary(offset_of(t, 2, 4)));
    }

    #[test]
    fn pruning_skips_values_but_not_syntax() {
        let v = parse_json_pruned(
            r#"{"a": {"skip": [1, {"x": 2}], "b": [true, null, 1.5, -3]}}"#,
            &["skip"],
        )
        .unwrap();
        assert_eq!(v, serde_json::json!({"a": {"b": [true, null, 1.5, -3]}}));
        assert!(parse_json_pruned(r#"{"skip": [1,, 2]}"#, &["skip"]).is_err());
        assert!(parse_json_pruned(r#"{"a": 1} x"#, &["skip"]).is_err());
    }

    #[test]
    fn json_problem_points_at_the_error() {
        let t = "{\n  \"a\": 1,\n  oops\n}";
        let p = parse_json(t).unwrap_err();
        let (s, _) = p.range.unwrap();
        assert_eq!(&t[s..s + 1], "o");
        assert!(p.message.starts_with("not valid JSON"), "{}", p.message);
        assert!(parse_json("  ").is_err());
    }
}
