//! Nodes that cloud-init will take for new machines: a node on both sides
//! whose `cloud-init/meta-data` names another `instance-id` (the built-in
//! template makes it of the node's name and serial, so a rename or a
//! corrected serial changes it). At its next boot from the seed,
//! cloud-init runs every per-instance module again: new SSH host keys
//! (Ansible, and every `known_hosts` that knew the machine, refuse it
//! until the entry is replaced), users and packages set up again. The
//! meta-data line alone reads like a cosmetic change; the review says
//! what it does.
//!
//! Read off the rendered meta-data, not the site, so that a project's own
//! template is judged by what it writes.

use serde::Serialize;

use crate::output::diff::{ArtifactChange, Status};
use crate::output::{OutputSet, Owner};

/// The artifact kind of a node's cloud-init meta-data.
const META_DATA: &str = "cloud-init-meta-data";

/// A node whose cloud-init instance-id changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewInstance {
    pub node: String,
    pub old: String,
    pub new: String,
}

impl std::fmt::Display for NewInstance {
    /// `r01n05: instance-id iid-r01n05-A → iid-r01n05-B`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: instance-id {} → {}", self.node, self.old, self.new)
    }
}

/// What a reviewer is told under the list.
pub const HELP: &str = "at its next boot from the seed, cloud-init takes the machine for a new one and runs its per-instance modules again: new SSH host keys (Ansible and every known_hosts that knew it refuse it until the entry is replaced), users and packages set up again; expected for a reinstall, not for a rename or a serial corrected on a running machine";

/// The nodes of `changes` (changed on both sides: a renamed node compared
/// with itself counts, an added or removed one does not) whose meta-data's
/// `instance-id` differs between `base` and `head`, in path order.
pub fn new_instances(
    changes: &[ArtifactChange],
    base: &OutputSet,
    head: &OutputSet,
) -> Vec<NewInstance> {
    changes
        .iter()
        .filter(|c| c.status == Status::Changed && c.kind == META_DATA)
        .filter_map(|c| {
            let Owner::Node(node) = &c.owner else {
                return None;
            };
            let id = |set: &OutputSet| {
                set.files
                    .get(&c.path)
                    .and_then(|a| instance_id(&String::from_utf8_lossy(&a.bytes)))
            };
            let (old, new) = (id(base)?, id(head)?);
            (old != new).then(|| NewInstance {
                node: node.clone(),
                old,
                new,
            })
        })
        .collect()
}

/// The `instance-id` of a meta-data document: its top-level key, the value
/// unquoted (the template writes it through the `yaml` filter).
fn instance_id(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let v = l.strip_prefix("instance-id:")?.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(v);
        (!v.is_empty()).then(|| v.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::diff::Content;
    use crate::output::Artifact;

    fn meta(node: &str, id: &str) -> Artifact {
        Artifact {
            path: format!("nodes/{node}/cloud-init/meta-data"),
            bytes: format!("#cloud-config\ninstance-id: {id}\nlocal-hostname: {node}\n")
                .into_bytes(),
            mode: 0o644,
            owner: Owner::Node(node.to_string()),
            kind: META_DATA.to_string(),
            secret: false,
        }
    }

    fn change(node: &str, status: Status) -> ArtifactChange {
        ArtifactChange {
            path: format!("nodes/{node}/cloud-init/meta-data"),
            owner: Owner::Node(node.to_string()),
            kind: META_DATA.to_string(),
            status,
            old_mode: Some(0o644),
            new_mode: Some(0o644),
            content: Content::Binary {
                old_size: 0,
                new_size: 0,
            },
        }
    }

    fn set(files: Vec<Artifact>) -> OutputSet {
        let mut s = OutputSet::default();
        for a in files {
            s.insert(a);
        }
        s
    }

    #[test]
    fn a_changed_instance_id_is_listed_and_other_meta_data_changes_are_not() {
        let base = set(vec![
            meta("r01n05", "iid-r01n05-AAA"),
            meta("r01n06", "iid-r01n06"),
        ]);
        let mut head = set(vec![
            meta("r01n05", "\"iid-r01n05-BBB\""),
            meta("r01n06", "iid-r01n06"),
        ]);
        // r01n06's meta-data changed elsewhere (its host name), not its id.
        head.files
            .get_mut("nodes/r01n06/cloud-init/meta-data")
            .unwrap()
            .bytes = b"#cloud-config\ninstance-id: iid-r01n06\nlocal-hostname: other\n".to_vec();
        let changes = vec![
            change("r01n05", Status::Changed),
            change("r01n06", Status::Changed),
            change("r01n07", Status::Added),
        ];
        let found = new_instances(&changes, &base, &head);
        assert_eq!(
            found,
            vec![NewInstance {
                node: "r01n05".into(),
                old: "iid-r01n05-AAA".into(),
                new: "iid-r01n05-BBB".into(),
            }]
        );
        assert_eq!(
            found[0].to_string(),
            "r01n05: instance-id iid-r01n05-AAA → iid-r01n05-BBB"
        );
    }

    #[test]
    fn meta_data_without_an_instance_id_is_no_finding() {
        assert_eq!(instance_id("local-hostname: a\n"), None);
        assert_eq!(instance_id("instance-id: ''\n"), None);
        assert_eq!(instance_id("instance-id: 'x'\n").as_deref(), Some("x"));
    }
}
