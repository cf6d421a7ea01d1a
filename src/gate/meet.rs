//! Whether two path globs can match a common path: a gate pattern against
//! the shape of every path that could exist (`nodes/*/etc/frr/frr.conf`
//! for any device, `site/**` for any input under the site directory).
//! Each glob becomes a small automaton (the syntax of `globset` with
//! `literal_separator`: `?`, `*` within a directory, `**` as a whole
//! component across them, `[…]`, `{a,b}`, `\` escapes), and the product of
//! the two is searched for a path both accept. Character classes compared
//! with each other are taken as overlapping unless both are plain sets that
//! share no character: the answer errs towards "possible".

#[derive(Debug, Clone)]
enum Label {
    Char(char),
    /// Any character but `/` (`?`, and each step of `*`).
    NotSlash,
    /// Any character (each step of `**`).
    Any,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

#[derive(Debug, Default)]
struct State {
    edges: Vec<(Label, usize)>,
    eps: Vec<usize>,
}

/// An automaton: state 0 is the start, `accept` the only accepting state.
#[derive(Debug)]
pub struct Nfa {
    states: Vec<State>,
    accept: usize,
}

impl Nfa {
    pub fn new(glob: &str) -> Nfa {
        let mut b = Builder {
            states: vec![State::default()],
        };
        let chars: Vec<char> = glob.chars().collect();
        let accept = b.seq(&chars, 0);
        Nfa {
            states: b.states,
            accept,
        }
    }

    /// Whether some path matches both.
    pub fn meets(&self, other: &Nfa) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut todo = vec![(0usize, 0usize)];
        while let Some((a, b)) = todo.pop() {
            if !seen.insert((a, b)) {
                continue;
            }
            if a == self.accept && b == other.accept {
                return true;
            }
            let (sa, sb) = (&self.states[a], &other.states[b]);
            todo.extend(sa.eps.iter().map(|&n| (n, b)));
            todo.extend(sb.eps.iter().map(|&n| (a, n)));
            for (la, na) in &sa.edges {
                for (lb, nb) in &sb.edges {
                    if compatible(la, lb) {
                        todo.push((*na, *nb));
                    }
                }
            }
        }
        false
    }
}

fn in_class(c: char, negated: bool, ranges: &[(char, char)]) -> bool {
    c != '/' && ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != negated
}

fn compatible(a: &Label, b: &Label) -> bool {
    use Label::*;
    match (a, b) {
        (Char(x), Char(y)) => x == y,
        (Char(c), NotSlash) | (NotSlash, Char(c)) => *c != '/',
        (Any, _) | (_, Any) => true,
        (NotSlash, _) | (_, NotSlash) => true,
        (Char(c), Class { negated, ranges }) | (Class { negated, ranges }, Char(c)) => {
            in_class(*c, *negated, ranges)
        }
        (
            Class {
                negated: false,
                ranges: r1,
            },
            Class {
                negated: false,
                ranges: r2,
            },
        ) => r1
            .iter()
            .any(|&(lo1, hi1)| r2.iter().any(|&(lo2, hi2)| lo1 <= hi2 && lo2 <= hi1)),
        (Class { .. }, Class { .. }) => true,
    }
}

struct Builder {
    states: Vec<State>,
}

impl Builder {
    fn new_state(&mut self) -> usize {
        self.states.push(State::default());
        self.states.len() - 1
    }

    fn edge(&mut self, from: usize, label: Label) -> usize {
        let to = self.new_state();
        self.states[from].edges.push((label, to));
        to
    }

    /// Builds `glob` from state `at`; returns the state it ends in.
    fn seq(&mut self, glob: &[char], mut at: usize) -> usize {
        let mut i = 0;
        while i < glob.len() {
            match glob[i] {
                '\\' if i + 1 < glob.len() => {
                    at = self.edge(at, Label::Char(glob[i + 1]));
                    i += 2;
                }
                '?' => {
                    at = self.edge(at, Label::NotSlash);
                    i += 1;
                }
                '*' if glob.get(i + 1) == Some(&'*')
                    && (i == 0 || glob[i - 1] == '/')
                    && matches!(glob.get(i + 2), None | Some('/')) =>
                {
                    if glob.get(i + 2) == Some(&'/') {
                        // `**/`: zero or more whole directories.
                        let end = self.new_state();
                        self.states[at].eps.push(end);
                        let any = self.new_state();
                        self.states[at].eps.push(any);
                        self.states[any].edges.push((Label::Any, any));
                        self.states[any].edges.push((Label::Char('/'), end));
                        at = end;
                        i += 3;
                    } else {
                        // A trailing `**`: anything below.
                        let any = self.new_state();
                        self.states[at].eps.push(any);
                        self.states[any].edges.push((Label::Any, any));
                        at = any;
                        i += 2;
                    }
                }
                '*' => {
                    let star = self.new_state();
                    self.states[at].eps.push(star);
                    self.states[star].edges.push((Label::NotSlash, star));
                    at = star;
                    while glob.get(i) == Some(&'*') {
                        i += 1;
                    }
                }
                '[' => match class(&glob[i + 1..]) {
                    Some((label, used)) => {
                        at = self.edge(at, label);
                        i += 1 + used;
                    }
                    None => {
                        at = self.edge(at, Label::Char('['));
                        i += 1;
                    }
                },
                '{' => match alternatives(&glob[i + 1..]) {
                    Some((alts, used)) => {
                        let end = self.new_state();
                        for alt in alts {
                            let e = self.seq(&alt, at);
                            self.states[e].eps.push(end);
                        }
                        at = end;
                        i += 1 + used;
                    }
                    None => {
                        at = self.edge(at, Label::Char('{'));
                        i += 1;
                    }
                },
                c => {
                    at = self.edge(at, Label::Char(c));
                    i += 1;
                }
            }
        }
        at
    }
}

/// A class after its `[`: the label and how many characters it used
/// (through the closing `]`).
fn class(rest: &[char]) -> Option<(Label, usize)> {
    let mut i = 0;
    let negated = matches!(rest.first(), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    while i < rest.len() {
        let c = rest[i];
        if c == ']' && !first {
            return Some((Label::Class { negated, ranges }, i + 1));
        }
        first = false;
        if rest.get(i + 1) == Some(&'-') && rest.get(i + 2).is_some_and(|&e| e != ']') {
            ranges.push((c, rest[i + 2]));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
    None
}

/// Alternatives after a `{`: each, and how many characters they used
/// (through the closing `}`).
fn alternatives(rest: &[char]) -> Option<(Vec<Vec<char>>, usize)> {
    let mut depth = 0;
    let mut alts = vec![Vec::new()];
    let mut i = 0;
    while i < rest.len() {
        let c = rest[i];
        match c {
            '\\' if i + 1 < rest.len() => {
                alts.last_mut()?.extend([c, rest[i + 1]]);
                i += 2;
                continue;
            }
            '{' => depth += 1,
            '}' if depth == 0 => return Some((alts, i + 1)),
            '}' => depth -= 1,
            ',' if depth == 0 => {
                alts.push(Vec::new());
                i += 1;
                continue;
            }
            _ => {}
        }
        alts.last_mut()?.push(c);
        i += 1;
    }
    None
}

/// Escapes the glob syntax in a literal path.
pub fn escape(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len());
    for c in literal.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meets(a: &str, b: &str) -> bool {
        Nfa::new(a).meets(&Nfa::new(b))
    }

    #[test]
    fn globs_meet() {
        for (a, b) in [
            ("prod/**", "prod/manifest.json"),
            ("prod/**", "*/nodes/*/etc/frr/frr.conf"),
            ("bootinfra/**", "bootinfra/*/**"),
            ("templates/**", "templates/**"),
            ("templates/node/etc/motd.j2", "templates/**"),
            ("switches/*/etc/frr/frr.conf", "switches/*/etc/frr/frr.conf"),
            ("**/frr.conf", "switches/*/etc/frr/frr.conf"),
            ("nodes/r01n*/etc/**", "nodes/*/etc/netplan/50-siteconf.yaml"),
            (
                "site/inventory/host_vars/*.yml",
                "site/inventory/host_vars/*.yml",
            ),
            ("{nodes,switches}/*/hostname", "switches/*/hostname"),
            ("site/racks/r0[1-3].svg", "site/racks/*.svg"),
            ("a/**/b", "a/b"),
            ("a/**/b", "a/x/y/b"),
        ] {
            assert!(meets(a, b), "{a} ∩ {b}");
            assert!(meets(b, a), "{b} ∩ {a}");
        }
        for (a, b) in [
            ("switches/*/frr.conf", "switches/*/etc/frr/frr.conf"),
            (
                "nodes/*/etc/ssh/sshd_config",
                "nodes/*/etc/ssh/sshd_config.d/*",
            ),
            ("site/racks/r02.svg", "site/racks/r01.svg"),
            ("prod/**", "lab/**"),
            ("sites/prod/**", "site/**"),
            (
                "site/inventory/host_vars/*.yaml",
                "site/inventory/host_vars/*.yml",
            ),
            ("*/frr.conf", "switches/*/etc/frr/frr.conf"),
            ("r0[4-9]", "r0[1-3]"),
        ] {
            assert!(!meets(a, b), "{a} ∩ {b}");
            assert!(!meets(b, a), "{b} ∩ {a}");
        }
    }
}
