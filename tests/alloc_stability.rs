//! Allocation is stable: random sequences of adding and removing nodes,
//! and after every step each surviving node keeps every value it had, and
//! no value is handed to two nodes — including values released by removed
//! nodes, which stay held back.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use siteconf::check::check;
use siteconf::source::MemSource;

const HEADER: &str = r#"
site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; asn-pool "4200000000-4200000999"; }
network mgmt { purpose management; ipv4 "10.0.0.0/24"; ipv6 "2001:db8::/64"; gateway4 "10.0.0.1"; reserved "10.0.0.1-10.0.0.9"; }
network lo { purpose loopback; ipv4 "10.255.0.0/24"; ipv6 "2001:db8:ffff::/64"; }
rack r01 { height 60; }
"#;

fn node(id: u32) -> String {
    format!(
        "node n{id} {{ rack r01; position {}; interface eth0 {{ mac \"52:54:00:00:{:02x}:{:02x}\"; }}\n address mgmt interface=eth0 ipv4=auto ipv6=auto\n loopback ipv4=auto ipv6=auto\n bgp asn=auto\n}}\n",
        id + 1,
        id / 256,
        id % 256
    )
}

/// Compiles the site with the given nodes and lock; returns the new lock
/// text and every node's allocated values.
fn compile(
    nodes: &BTreeSet<u32>,
    lock: &str,
) -> (String, BTreeMap<String, BTreeMap<String, String>>) {
    let mut site = HEADER.to_string();
    for n in nodes {
        site.push_str(&node(*n));
    }
    let mut src = MemSource::new().with("site/site.kdl", site);
    if !lock.is_empty() {
        src.insert("siteconf.lock", lock);
    }
    let c = check(&src);
    assert!(
        !c.diags.has_errors(),
        "{:?}",
        c.diags.iter().collect::<Vec<_>>()
    );
    let mut values: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for e in c.resolved.lock.entries.iter().filter(|e| !e.released) {
        values
            .entry(e.owner.clone())
            .or_default()
            .insert(e.key.clone(), e.value.clone());
    }
    (c.resolved.lock.to_text(), values)
}

#[derive(Debug, Clone)]
enum Step {
    Add(u32),
    Remove(usize),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            (0u32..50).prop_map(Step::Add),
            (0usize..50).prop_map(Step::Remove)
        ],
        1..25,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn surviving_nodes_keep_their_values(steps in steps()) {
        let mut nodes: BTreeSet<u32> = BTreeSet::new();
        let mut lock = String::new();
        let mut before: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        // Every value ever handed out, with its owner: never reused for another owner.
        let mut ever: BTreeMap<String, String> = BTreeMap::new();
        for step in steps {
            match step {
                Step::Add(id) => { nodes.insert(id); }
                Step::Remove(i) => {
                    if let Some(&id) = nodes.iter().nth(i % nodes.len().max(1)) {
                        nodes.remove(&id);
                    }
                }
            }
            let (new_lock, after) = compile(&nodes, &lock);
            for (owner, vals) in &after {
                if let Some(old) = before.get(owner) {
                    for (k, v) in old {
                        prop_assert_eq!(vals.get(k), Some(v), "{} {} changed", owner, k);
                    }
                }
                for (k, v) in vals {
                    let slot = format!("{}={}", if k == "asn" { "asn" } else { "ip" }, v);
                    if let Some(prev) = ever.get(&slot) {
                        prop_assert_eq!(prev, owner, "{} reused", v);
                    }
                    ever.insert(slot, owner.clone());
                }
            }
            // Nodes that were removed keep nothing; their values stay held back.
            before = after;
            lock = new_lock;
        }
    }
}

#[test]
fn removed_node_comes_back_with_its_old_values() {
    let all: BTreeSet<u32> = (0..3).collect();
    let (lock1, v1) = compile(&all, "");
    let fewer: BTreeSet<u32> = [0, 2].into();
    let (lock2, _) = compile(&fewer, &lock1);
    assert!(
        lock2.contains("node/n1 asn") && lock2.contains(" released\n"),
        "{lock2}"
    );
    let (_, v3) = compile(&all, &lock2);
    assert_eq!(v1["node/n1"], v3["node/n1"]);
}
