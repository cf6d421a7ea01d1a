//! Git as a [`Source`]: a revision's tree ([`GitRevSource`]) or the index,
//! i.e. what is staged for the next commit ([`GitIndexSource`]).
//!
//! Files are read straight from git objects: no checkout, no temporary
//! worktree, so `siteconf diff main` costs two tree reads and never touches
//! the working tree. The project root may be a subdirectory of the
//! repository (`infra/fleet/siteconf.toml`); [`GitProject`] finds that prefix
//! once, and every path a source hands out or accepts is relative to the
//! project root, exactly as with [`super::FsSource`].
//!
//! What a tree holds that is not a plain file is skipped with a note rather
//! than an error, because it may be unrelated to the site: symbolic links
//! (the working tree source does not follow them either), submodules (their
//! content is not in this repository), paths that are not UTF-8. Reading such
//! a path on purpose is an error that says which of these it is.
//!
//! Listing walks only the subtree asked for: `list("site")` in a repository
//! of a million files reads the trees under `site/` and nothing else.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use git2::{ErrorCode, ObjectType, Oid, Repository, Tree};

use super::{Earlier, Source, SourceError, MAX_FILE_BYTES};

/// Why a repository, revision or index could not be opened. Shown to the
/// user as one line plus a hint; never about a single project file (those
/// are [`SourceError`]s and become diagnostics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitError {
    pub message: String,
    pub help: Option<String>,
}

impl GitError {
    fn new(message: impl Into<String>) -> GitError {
        GitError {
            message: message.into(),
            help: None,
        }
    }
    fn help(mut self, help: impl Into<String>) -> GitError {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for GitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for GitError {}

/// A git error about the repository as a whole, with the hint a user needs
/// for the two cases that happen in CI: an ownership check and a shallow
/// clone.
fn repo_error(what: &str, e: &git2::Error) -> GitError {
    let err = GitError::new(format!("{what}: {}", e.message()));
    match e.code() {
        ErrorCode::Owner => err.help(
            "the repository belongs to another user; in a CI container run \
             `git config --global --add safe.directory \"$PWD\"` first",
        ),
        _ => err,
    }
}

/// Mode bits of tree and index entries (git's own, not the file system's).
const MODE_TYPE_MASK: u32 = 0o170000;
const MODE_FILE: u32 = 0o100000;
const MODE_SYMLINK: u32 = 0o120000;
const MODE_SUBMODULE: u32 = 0o160000;
const MODE_TREE: u32 = 0o040000;

/// Why a tree or index entry is not offered as a file.
fn skip_reason(mode: u32) -> Option<&'static str> {
    match mode & MODE_TYPE_MASK {
        MODE_FILE => None,
        MODE_SYMLINK => Some("a symbolic link (siteconf reads plain files only)"),
        MODE_SUBMODULE => Some("a submodule (its files are not in this repository)"),
        MODE_TREE => {
            Some("a sparse-index directory (expand it with `git sparse-checkout disable`)")
        }
        _ => Some("not a plain file"),
    }
}

/// Why a file cannot be read: for a symbolic link the working tree's very
/// message (one wording, one code, whatever the source).
fn read_refusal(why: &str) -> String {
    if why.starts_with("a symbolic link") {
        super::fs::SYMLINK_REFUSED.to_string()
    } else {
        format!("is {why}")
    }
}

fn check_path(path: &str) -> Result<(), SourceError> {
    // libgit2 takes C strings; a NUL would be cut (or refused) there, and no
    // git path can contain one.
    if path.contains('\0') {
        return Err(SourceError {
            path: path.replace('\0', "\\0"),
            message: "path contains a NUL byte".into(),
        });
    }
    Ok(())
}

/// A project inside a git repository: the repository and the project's
/// directory within it.
pub struct GitProject {
    repo: Repository,
    /// The project root relative to the top of the repository,
    /// `/`-separated, empty when the project is the whole repository.
    prefix: String,
}

impl fmt::Debug for GitProject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitProject")
            .field("git_dir", &self.repo.path())
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl GitProject {
    /// Finds the repository that holds `project_root` (in it or a parent)
    /// and the project's place in it.
    pub fn discover(project_root: &Path) -> Result<GitProject, GitError> {
        // libgit2 hashes every object it reads again (SHA-1 with collision
        // detection) to verify it: a tenth of the CPU of a one-node diff at
        // 100,000 nodes, which reads every site file of both revisions.
        // git itself does not verify on read (that is `git fsck`'s work),
        // and the repository is the operator's own clone.
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| git2::opts::strict_hash_verification(false));
        let repo = Repository::discover(project_root).map_err(|e| {
            if e.code() == ErrorCode::NotFound {
                GitError::new(format!(
                    "{} is not in a git repository",
                    project_root.display()
                ))
                .help("`--rev`, `--staged`, `diff` and `gate` read from git; run `git init` or use `-C` to point at a clone")
            } else {
                repo_error("cannot open the git repository", &e)
            }
        })?;
        let prefix = match repo.workdir() {
            // A bare repository has no work tree: the project is its top.
            None => String::new(),
            Some(workdir) => relative_prefix(workdir, project_root)?,
        };
        Ok(GitProject { repo, prefix })
    }

    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    /// Whether `rel` (a path relative to the project root; `.` and `..`
    /// components allowed) is in the git index: staged or committed.
    pub fn tracks(&self, rel: &str) -> bool {
        let mut parts: Vec<&str> = self.prefix.split('/').filter(|p| !p.is_empty()).collect();
        for c in rel.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return false;
                    }
                }
                c => parts.push(c),
            }
        }
        if rel.starts_with('/') || parts.is_empty() {
            return false;
        }
        let path = parts.join("/");
        self.repo
            .index()
            .ok()
            .is_some_and(|i| i.get_path(Path::new(&path), 0).is_some())
    }

    /// The project's directory inside the repository (`""` at the top).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A second handle on the same repository, for a source that lives on
    /// its own (libgit2 handles are not shared between threads).
    fn reopen(&self) -> Result<Repository, GitError> {
        Repository::open(self.repo.path())
            .map_err(|e| repo_error("cannot open the git repository", &e))
    }

    /// Resolves a revision (`main`, `v1.2`, `abc1234`, `HEAD~3`, `origin/main`)
    /// to a commit id.
    pub fn resolve(&self, rev: &str) -> Result<Oid, GitError> {
        resolve_commit(&self.repo, rev)
    }

    /// The short form of a commit id, as git would print it.
    pub fn short(&self, oid: Oid) -> String {
        short_id(&self.repo, oid)
    }

    /// The files of the project in one revision.
    pub fn rev_source(&self, rev: &str) -> Result<GitRevSource, GitError> {
        let commit = self.resolve(rev)?;
        GitRevSource::open(self.reopen()?, &self.prefix, rev, commit)
    }

    /// The files of the project as staged in the index. `index_file`
    /// overrides the repository's own index, as `GIT_INDEX_FILE` does for
    /// git (set during `git commit -a` and `git commit PATH…`, where the
    /// hook must check the temporary index git is about to commit).
    pub fn index_source(&self, index_file: Option<&Path>) -> Result<GitIndexSource, GitError> {
        if self.repo.is_bare() {
            return Err(GitError::new("a bare repository has no index")
                .help("use `--rev REV` to read a revision instead"));
        }
        let index = match index_file {
            Some(p) => git2::Index::open(p).map_err(|e| {
                GitError::new(format!(
                    "cannot read the index {}: {}",
                    p.display(),
                    e.message()
                ))
            })?,
            None => self
                .repo
                .index()
                .map_err(|e| repo_error("cannot read the git index", &e))?,
        };
        GitIndexSource::open(self.reopen()?, &self.prefix, &index)
    }

    /// The base a merge request is compared against: the merge base of
    /// `head` with the default branch. The branch is tried as given, then
    /// as `origin/BRANCH` (CI clones often have only remote branches), then
    /// the remote's default (`origin/HEAD`), then `master` if the configured
    /// branch is the built-in default `main`.
    pub fn default_base(&self, branch: &str, head: Oid) -> Result<DefaultBase, GitError> {
        let mut candidates = vec![branch.to_string(), format!("origin/{branch}")];
        candidates.push("origin/HEAD".to_string());
        if branch == "main" {
            candidates.push("master".into());
            candidates.push("origin/master".into());
        }
        for name in &candidates {
            let Ok(tip) = resolve_commit(&self.repo, name) else {
                continue;
            };
            let base = self.repo.merge_base(tip, head).map_err(|e| {
                let err = GitError::new(format!(
                    "no merge base between {name} and {}: {}",
                    self.short(head),
                    e.message()
                ));
                if self.repo.is_shallow() {
                    err.help("this is a shallow clone; fetch the full history (`git fetch --unshallow`, or `fetch-depth: 0` / `GIT_DEPTH: 0` in CI) or name BASE explicitly")
                } else {
                    err.help("the two histories are unrelated; name BASE explicitly")
                }
            })?;
            return Ok(DefaultBase {
                branch: name.clone(),
                commit: base,
            });
        }
        Err(GitError::new(format!(
            "cannot find the default branch `{branch}` (tried {})",
            candidates.join(", ")
        ))
        .help("name the base revision (`siteconf diff BASE`), fetch the branch, or set `diff.default-branch` in siteconf.toml"))
    }
}

/// The base chosen when the user did not name one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultBase {
    /// The branch whose merge base was taken (`main`, `origin/main`).
    pub branch: String,
    pub commit: Oid,
}

fn relative_prefix(workdir: &Path, project_root: &Path) -> Result<String, GitError> {
    // Both sides canonical: `-C ./x`, symlinked checkouts and `/tmp` vs
    // `/private/tmp` must agree.
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (workdir, root) = (canon(workdir), canon(project_root));
    let rel = root.strip_prefix(&workdir).map_err(|_| {
        GitError::new(format!(
            "the project at {} is outside the git work tree at {}",
            root.display(),
            workdir.display()
        ))
    })?;
    let mut parts = Vec::new();
    for c in rel.components() {
        match c.as_os_str().to_str() {
            Some(s) => parts.push(s.to_string()),
            None => {
                return Err(GitError::new(format!(
                    "the project path {} is not valid UTF-8",
                    rel.display()
                )))
            }
        }
    }
    Ok(parts.join("/"))
}

fn resolve_commit(repo: &Repository, rev: &str) -> Result<Oid, GitError> {
    if rev.is_empty() || rev.contains('\0') {
        return Err(GitError::new(format!("`{rev}` is not a revision")));
    }
    let obj = repo.revparse_single(rev).map_err(|e| {
        if matches!(e.code(), ErrorCode::NotFound | ErrorCode::Ambiguous)
            || e.class() == git2::ErrorClass::Reference
            || e.class() == git2::ErrorClass::Object
        {
            let mut err = GitError::new(format!("revision `{rev}` not found in the repository"))
                .help("name a branch, tag, commit or an expression like HEAD~1; `git log --oneline` lists commits");
            if e.code() == ErrorCode::Ambiguous {
                err = GitError::new(format!("revision `{rev}` is ambiguous"))
                    .help("give more characters of the commit id");
            } else if repo.is_shallow() {
                err = err.help("this is a shallow clone: the commit may not have been fetched (`git fetch --unshallow`)");
            }
            err
        } else {
            repo_error(&format!("cannot resolve `{rev}`"), &e)
        }
    })?;
    let commit = obj.peel_to_commit().map_err(|_| {
        GitError::new(format!(
            "`{rev}` names a {}, not a commit",
            obj.kind().map(|k| k.str()).unwrap_or("object")
        ))
    })?;
    Ok(commit.id())
}

fn short_id(repo: &Repository, oid: Oid) -> String {
    repo.find_object(oid, None)
        .ok()
        .and_then(|o| o.short_id().ok())
        .and_then(|b| b.as_str().ok().map(str::to_string))
        .unwrap_or_else(|| oid.to_string().chars().take(7).collect())
}

fn lock(repo: &Mutex<Repository>) -> MutexGuard<'_, Repository> {
    // A poisoned lock only means another reader panicked mid-read; the
    // repository handle itself holds no half-written state.
    repo.lock().unwrap_or_else(|p| p.into_inner())
}

fn source_error(path: &str, e: impl fmt::Display) -> SourceError {
    SourceError {
        path: path.to_string(),
        message: e.to_string(),
    }
}

/// The project's files in one revision, read from git objects.
///
/// `Source` must be `Sync` (files are parsed in parallel), and a libgit2
/// repository handle may not be used from two threads at once, so reads take
/// turns on one handle. Inflating a blob takes microseconds; parsing it takes
/// far longer and runs in parallel after the read.
pub struct GitRevSource {
    repo: Mutex<Repository>,
    /// The project root inside the repository ([`GitProject::prefix`]).
    prefix: String,
    /// The project root's tree in this revision; `None` when the project
    /// directory does not exist there (every list is then empty).
    root: Option<Oid>,
    rev: String,
    commit: Oid,
    short: String,
    notes: Mutex<BTreeSet<String>>,
    /// The symbolic links skipped while listing ([`Source::links_under`]).
    links: Mutex<BTreeSet<String>>,
    /// Each directory's entries (by path from the root, `""` for the
    /// root) as first read: a read looks its file up here instead of
    /// walking the trees from the root, which inflated a directory's tree
    /// object again for every file in it (a rack directory of 3,125 files
    /// read 3,125 times: a fleet's read cost the square of its size).
    dirs: Mutex<std::collections::HashMap<String, std::sync::Arc<Dir>>>,
}

/// The entries of one tree by name (names that are not UTF-8 are left
/// out: no path of a project can reach them).
type Dir = std::collections::HashMap<String, DirEntry>;

#[derive(Clone, Copy)]
struct DirEntry {
    id: Oid,
    tree: bool,
    mode: u32,
}

impl fmt::Debug for GitRevSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitRevSource")
            .field("rev", &self.rev)
            .field("commit", &self.commit)
            .finish()
    }
}

impl GitRevSource {
    fn open(
        repo: Repository,
        prefix: &str,
        rev: &str,
        commit: Oid,
    ) -> Result<GitRevSource, GitError> {
        let root = {
            let tree = repo
                .find_commit(commit)
                .and_then(|c| c.tree())
                .map_err(|e| repo_error(&format!("cannot read the tree of `{rev}`"), &e))?;
            if prefix.is_empty() {
                Some(tree.id())
            } else {
                match tree.get_path(Path::new(prefix)) {
                    Ok(entry) if entry.kind() == Some(ObjectType::Tree) => Some(entry.id()),
                    _ => None,
                }
            }
        };
        let short = short_id(&repo, commit);
        Ok(GitRevSource {
            repo: Mutex::new(repo),
            prefix: prefix.to_string(),
            root,
            rev: rev.to_string(),
            commit,
            short,
            notes: Mutex::new(BTreeSet::new()),
            links: Mutex::new(BTreeSet::new()),
            dirs: Mutex::new(Default::default()),
        })
    }

    /// The entries of directory `dir` (a path from the root without empty
    /// components, `""` for the root), or `None` when it is not a
    /// directory in this revision.
    fn dir(
        &self,
        repo: &Repository,
        root: Oid,
        dir: &str,
    ) -> Result<Option<std::sync::Arc<Dir>>, git2::Error> {
        let known = self
            .dirs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(dir)
            .cloned();
        if let Some(d) = known {
            return Ok(Some(d));
        }
        let id = if dir.is_empty() {
            root
        } else {
            let (parent, name) = dir.rsplit_once('/').unwrap_or(("", dir));
            let Some(p) = self.dir(repo, root, parent)? else {
                return Ok(None);
            };
            match p.get(name) {
                Some(e) if e.tree => e.id,
                _ => return Ok(None),
            }
        };
        let tree = repo.find_tree(id)?;
        let entries: Dir = tree
            .iter()
            .filter_map(|e| {
                let name = std::str::from_utf8(e.name_bytes()).ok()?.to_string();
                let entry = DirEntry {
                    id: e.id(),
                    tree: e.kind() == Some(ObjectType::Tree),
                    mode: e.filemode() as u32,
                };
                Some((name, entry))
            })
            .collect();
        let entries = std::sync::Arc::new(entries);
        self.dirs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(dir.to_string(), entries.clone());
        Ok(Some(entries))
    }

    /// The commit this source reads.
    pub fn commit(&self) -> Oid {
        self.commit
    }

    /// The revision as the user wrote it.
    pub fn rev(&self) -> &str {
        &self.rev
    }

    fn note(&self, note: String) {
        self.notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(note);
    }

    /// Appends every file below `tree` to `out` as `base/name`, descending
    /// only into subtrees.
    fn walk(
        &self,
        repo: &Repository,
        tree: &Tree<'_>,
        base: &str,
        out: &mut Vec<String>,
    ) -> Result<(), SourceError> {
        for entry in tree.iter() {
            let name = match std::str::from_utf8(entry.name_bytes()) {
                Ok(n) => n,
                Err(_) => {
                    let lossy = String::from_utf8_lossy(entry.name_bytes());
                    self.note(format!(
                        "skipped {}: the name is not valid UTF-8",
                        crate::syntax::escape_path(&super::join(base, &lossy))
                    ));
                    continue;
                }
            };
            let path = super::join(base, name);
            let mode = entry.filemode() as u32;
            if entry.kind() == Some(ObjectType::Tree) {
                let sub = repo
                    .find_tree(entry.id())
                    .map_err(|e| source_error(&path, e.message()))?;
                self.walk(repo, &sub, &path, out)?;
            } else if let Some(why) = skip_reason(mode) {
                self.note(format!(
                    "skipped {}: {why}",
                    crate::syntax::escape_path(&path)
                ));
                if mode & MODE_TYPE_MASK == MODE_SYMLINK {
                    self.links
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(path);
                }
            } else {
                out.push(path);
            }
        }
        Ok(())
    }
}

impl Source for GitRevSource {
    fn list(&self, dir: &str) -> Result<Vec<String>, SourceError> {
        check_path(dir)?;
        let Some(root) = self.root else {
            return Ok(Vec::new());
        };
        let repo = lock(&self.repo);
        let root = repo
            .find_tree(root)
            .map_err(|e| source_error(dir, e.message()))?;
        let dir = dir.trim_matches('/');
        let mut out = Vec::new();
        if dir.is_empty() || dir == "." {
            self.walk(&repo, &root, "", &mut out)?;
        } else {
            // A directory that is a link in this revision (or lies under
            // one) is refused as the working tree refuses it: git stores
            // the link, a checkout makes it one.
            let mut at = String::new();
            for c in dir.split('/').filter(|c| !c.is_empty() && *c != ".") {
                at = super::join(&at, c);
                match root.get_path(Path::new(&at)) {
                    Ok(e) if e.filemode() as u32 & MODE_TYPE_MASK == MODE_SYMLINK => {
                        return Err(source_error(&at, super::fs::SYMLINK_REFUSED));
                    }
                    Ok(e) if e.kind() == Some(ObjectType::Tree) => {}
                    _ => break,
                }
            }
            match root.get_path(Path::new(dir)) {
                Ok(entry) if entry.kind() == Some(ObjectType::Tree) => {
                    let sub = repo
                        .find_tree(entry.id())
                        .map_err(|e| source_error(dir, e.message()))?;
                    self.walk(&repo, &sub, dir, &mut out)?;
                }
                // A file, or nothing: no directory to list, like FsSource.
                Ok(_) => {}
                Err(e) if e.code() == ErrorCode::NotFound => {}
                Err(e) => return Err(source_error(dir, e.message())),
            }
        }
        out.sort();
        Ok(out)
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        check_path(path)?;
        let Some(root) = self.root else {
            return Ok(None);
        };
        let repo = lock(&self.repo);
        let plain = !path.is_empty() && path.split('/').all(|c| !c.is_empty() && c != ".");
        let entry = if plain {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            let entries = self
                .dir(&repo, root, dir)
                .map_err(|e| source_error(path, e.message()))?;
            match entries.and_then(|d| d.get(name).copied()) {
                Some(e) => e,
                None => return Ok(None),
            }
        } else {
            let root = repo
                .find_tree(root)
                .map_err(|e| source_error(path, e.message()))?;
            match root.get_path(Path::new(path)) {
                Ok(e) => DirEntry {
                    id: e.id(),
                    tree: e.kind() == Some(ObjectType::Tree),
                    mode: e.filemode() as u32,
                },
                Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
                Err(e) => return Err(source_error(path, e.message())),
            }
        };
        if entry.tree {
            return Err(source_error(path, "is a directory in this revision"));
        }
        if let Some(why) = skip_reason(entry.mode) {
            return Err(source_error(path, read_refusal(why)));
        }
        read_blob(&repo, entry.id, path, MAX_FILE_BYTES).map(Some)
    }

    fn describe(&self) -> String {
        if self.rev.starts_with(&self.short) {
            format!("revision {}", self.short)
        } else {
            format!("revision {} ({})", self.rev, self.short)
        }
    }

    fn notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    fn links_under(&self, dir: &str) -> Vec<String> {
        super::below(
            self.links.lock().unwrap_or_else(|p| p.into_inner()).iter(),
            dir,
        )
    }

    fn earlier(&self, path: &str) -> Vec<Earlier> {
        let repo = lock(&self.repo);
        let Ok(commit) = repo.find_commit(self.commit) else {
            return Vec::new();
        };
        let revs = commit
            .parent_ids()
            .enumerate()
            .map(|(i, p)| (format!("{}^{}", self.short, i + 1), p))
            .collect();
        earlier_in(&repo, &self.prefix, path, revs, true)
    }
}

/// The bytes of a blob of at most `limit` bytes; the size is read from
/// the object's header, so a larger blob is refused without inflating it.
fn read_blob(repo: &Repository, oid: Oid, path: &str, limit: u64) -> Result<Vec<u8>, SourceError> {
    let odb = repo.odb().map_err(|e| source_error(path, e.message()))?;
    let (size, _) = odb
        .read_header(oid)
        .map_err(|e| source_error(path, e.message()))?;
    super::check_size(path, size as u64, limit)?;
    let blob = repo
        .find_blob(oid)
        .map_err(|e| source_error(path, e.message()))?;
    Ok(blob.content().to_vec())
}

/// The text of `path` (relative to the project root `prefix`) in commit
/// `commit`, if it is a text file there.
fn committed_text(repo: &Repository, prefix: &str, commit: Oid, path: &str) -> Option<String> {
    let tree = repo.find_commit(commit).ok()?.tree().ok()?;
    let full = super::join(prefix, path);
    let entry = tree.get_path(Path::new(&full)).ok()?;
    if skip_reason(entry.filemode() as u32).is_some() {
        return None;
    }
    let bytes = read_blob(repo, entry.id(), path, MAX_FILE_BYTES).ok()?;
    String::from_utf8(bytes).ok()
}

/// `path` in each of `revs` (revision as git spells it, commit), the
/// first the base when `base` is set; a revision without the file, or one
/// a shallow clone lacks, is left out.
fn earlier_in(
    repo: &Repository,
    prefix: &str,
    path: &str,
    revs: Vec<(String, Oid)>,
    base: bool,
) -> Vec<Earlier> {
    let mut out: Vec<Earlier> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, (rev, oid)) in revs.into_iter().enumerate() {
        if !seen.insert(oid) {
            continue;
        }
        if let Some(text) = committed_text(repo, prefix, oid, path) {
            out.push(Earlier {
                rev,
                base: base && i == 0,
                text,
            });
        }
    }
    out
}

/// `path` as committed in the revisions a working tree or index of `repo`
/// continues from: HEAD (the base), MERGE_HEAD during a merge, HEAD's
/// parents. Nothing when HEAD is unborn.
pub(crate) fn earlier_of_worktree(repo: &Repository, prefix: &str, path: &str) -> Vec<Earlier> {
    let Some(head) = repo.head().ok().and_then(|h| h.peel_to_commit().ok()) else {
        return Vec::new();
    };
    let mut revs = vec![("HEAD".to_string(), head.id())];
    // During a merge git lists the commits being merged in MERGE_HEAD,
    // one id a line (libgit2 reads the same file).
    let merge_heads: Vec<Oid> = std::fs::read_to_string(repo.path().join("MERGE_HEAD"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| Oid::from_str(l.trim()).ok())
        .collect();
    for (i, oid) in merge_heads.into_iter().enumerate() {
        let rev = if i == 0 {
            "MERGE_HEAD".to_string()
        } else {
            short_id(repo, oid)
        };
        revs.push((rev, oid));
    }
    for (i, p) in head.parent_ids().enumerate() {
        revs.push((format!("HEAD^{}", i + 1), p));
    }
    earlier_in(repo, prefix, path, revs, true)
}

/// One file as staged.
#[derive(Debug, Clone, Copy)]
enum Staged {
    Blob(Oid),
    /// A path with unresolved merge conflicts (only stages 1–3 present).
    Conflicted,
    /// Not a plain file (symlink, submodule): not listed, an error to read.
    Skipped(&'static str),
}

/// The project's files as staged in the git index — what a pre-commit hook
/// must check, since the working tree may hold edits that are not part of
/// the commit. The entries under the project are copied out of the index
/// once; blobs are read on demand.
pub struct GitIndexSource {
    repo: Mutex<Repository>,
    /// The project root inside the repository ([`GitProject::prefix`]).
    prefix: String,
    entries: BTreeMap<String, Staged>,
    notes: Vec<String>,
}

impl fmt::Debug for GitIndexSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitIndexSource")
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// Bits of an index entry's flags (git's index format).
const STAGE_MASK: u16 = 0x3000;
const STAGE_SHIFT: u16 = 12;
const INTENT_TO_ADD: u16 = 1 << 13;

impl GitIndexSource {
    fn open(
        repo: Repository,
        prefix: &str,
        index: &git2::Index,
    ) -> Result<GitIndexSource, GitError> {
        let mut entries = BTreeMap::new();
        let mut notes = BTreeSet::new();
        let dir_prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        for e in index.iter() {
            let Some(rel) = e.path.strip_prefix(dir_prefix.as_bytes()) else {
                continue;
            };
            let Ok(rel) = std::str::from_utf8(rel) else {
                notes.insert(format!(
                    "skipped {}: the name is not valid UTF-8",
                    crate::syntax::escape_path(&String::from_utf8_lossy(rel))
                ));
                continue;
            };
            let stage = (e.flags & STAGE_MASK) >> STAGE_SHIFT;
            if stage != 0 {
                // Stages 1–3 are the sides of a conflict; a path that has
                // them has no stage-0 entry until it is resolved.
                entries.entry(rel.to_string()).or_insert(Staged::Conflicted);
                continue;
            }
            if e.flags_extended & INTENT_TO_ADD != 0 {
                // `git add -N`: announced, nothing staged yet.
                continue;
            }
            if let Some(why) = skip_reason(e.mode) {
                notes.insert(format!(
                    "skipped {}: {why}",
                    crate::syntax::escape_path(rel)
                ));
                entries.insert(rel.to_string(), Staged::Skipped(why));
                continue;
            }
            entries.insert(rel.to_string(), Staged::Blob(e.id));
        }
        Ok(GitIndexSource {
            repo: Mutex::new(repo),
            prefix: prefix.to_string(),
            entries,
            notes: notes.into_iter().collect(),
        })
    }
}

impl Source for GitIndexSource {
    fn list(&self, dir: &str) -> Result<Vec<String>, SourceError> {
        check_path(dir)?;
        let dir = dir.trim_matches('/');
        let listed = |(k, v): (&String, &Staged)| match v {
            Staged::Skipped(_) => None,
            _ => Some(k.clone()),
        };
        if dir.is_empty() || dir == "." {
            return Ok(self.entries.iter().filter_map(listed).collect());
        }
        // A directory staged as a link (or under one): refused, as the
        // working tree refuses it.
        let mut at = String::new();
        for c in dir.split('/').filter(|c| !c.is_empty() && *c != ".") {
            at = super::join(&at, c);
            if let Some(Staged::Skipped(why)) = self.entries.get(&at) {
                if why.starts_with("a symbolic link") {
                    return Err(source_error(&at, super::fs::SYMLINK_REFUSED));
                }
            }
        }
        // The map is sorted, so the files below `dir/` are one range.
        let start = format!("{dir}/");
        Ok(self
            .entries
            .range(start.clone()..)
            .take_while(|(k, _)| k.starts_with(&start))
            .filter_map(listed)
            .collect())
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        check_path(path)?;
        match self.entries.get(path) {
            None => Ok(None),
            Some(Staged::Skipped(why)) => Err(source_error(path, read_refusal(why))),
            Some(Staged::Conflicted) => Err(source_error(
                path,
                "has unresolved merge conflicts in the index; resolve them and `git add` the file",
            )),
            Some(Staged::Blob(oid)) => {
                let repo = lock(&self.repo);
                read_blob(&repo, *oid, path, MAX_FILE_BYTES).map(Some)
            }
        }
    }

    fn describe(&self) -> String {
        "git index".to_string()
    }

    fn list_top(&self) -> Result<Vec<String>, SourceError> {
        Ok(self
            .entries
            .iter()
            .filter(|(k, v)| !matches!(v, Staged::Skipped(_)) && super::is_top(k))
            .map(|(k, _)| k.clone())
            .collect())
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn links_under(&self, dir: &str) -> Vec<String> {
        let links: Vec<String> = self
            .entries
            .iter()
            .filter(
                |(_, v)| matches!(v, Staged::Skipped(why) if why.starts_with("a symbolic link")),
            )
            .map(|(k, _)| k.clone())
            .collect();
        super::below(links.iter(), dir)
    }
    fn earlier(&self, path: &str) -> Vec<Earlier> {
        earlier_of_worktree(&lock(&self.repo), &self.prefix, path)
    }
}

/// Where a relative `GIT_INDEX_FILE` points: git resolves it against the
/// directory git was started in, which for a hook is the top of the work
/// tree.
pub fn index_file_path(value: &std::ffi::OsStr, cwd: &Path) -> PathBuf {
    let p = PathBuf::from(value);
    if p.is_absolute() {
        p
    } else {
        cwd.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_over_the_limit_is_refused_by_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let oid = repo.blob(b"0123456789").unwrap();
        assert_eq!(
            read_blob(&repo, oid, "site/a.kdl", 10).unwrap(),
            b"0123456789"
        );
        let e = read_blob(&repo, oid, "site/a.kdl", 9).unwrap_err();
        assert_eq!(e.path, "site/a.kdl");
        assert!(
            e.message.contains("has 10 bytes") && e.message.contains("9 bytes"),
            "{e}"
        );
    }
}
