//! `siteconf gate [BASE] [HEAD] --approved-by a,b`: applies base's `[gate]`
//! policy to the review of BASE..HEAD. Exit status: 0 the change may merge,
//! 1 blocked (a rule fired that nobody named in `--approved-by` may approve,
//! a side does not compile, or the policy cannot be read), 2 usage or git
//! error. Blocking is never silent: every fired rule is printed with its
//! reason and its approvers.

use super::common::{print_diagnostics, Format, Global, Status};
use super::diff::{compile_sides, open_sides};
use crate::gate;
use crate::review::{Filter, Review};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Exit status: 0 pass, 1 blocked (or a side does not compile, or the policy is invalid), 2 usage or git error."
)]
pub struct Args {
    /// The revision merged into [default: merge base of HEAD with diff.default-branch].
    pub base: Option<String>,
    /// The revision to merge [default: the working tree].
    pub head: Option<String>,
    /// Evaluate the index (staged changes) instead of the working tree.
    #[arg(long, conflicts_with = "head")]
    pub staged: bool,
    /// Who has approved the change (comma-separated or repeated): users or
    /// groups as the policy names them.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "NAMES",
        env = "SITECONF_APPROVED_BY"
    )]
    pub approved_by: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(g: &Global, args: Args) -> Status {
    let sides = match open_sides(g, args.base.as_deref(), args.head.as_deref(), args.staged) {
        Ok(s) => s,
        Err(st) => return st,
    };
    let (base, head) = match compile_sides(g, &sides, args.format == Format::Json) {
        Ok(x) => x,
        Err(st) => {
            if st == Status::Findings {
                eprintln!("gate: blocked (a side does not compile)");
            }
            return st;
        }
    };
    // Base's policy: a merge request is judged by the rules it merges into.
    let policy = match gate::policy::from_config(&base.config, &base.sources) {
        Ok(p) => p,
        Err(diags) => {
            let list = diags.sorted(&base.sources);
            print_diagnostics(g, &list, &base.sources, args.format);
            eprintln!(
                "gate: blocked (the [gate] policy of {} cannot be read)",
                base.label
            );
            return Status::Findings;
        }
    };
    // What base's policy names that base's project lacks (SC0056), as
    // `check` warns: a rule that never fires passes exactly the change it
    // was written to stop. Shown, not part of the verdict.
    let unmatched = super::check::gate_unmatched(
        &*sides.base,
        &base.config,
        base.sites.iter().collect(),
        &base.sources,
        &policy,
    );
    let unmatched = {
        let mut d = crate::diag::Diagnostics::new();
        d.extend(unmatched);
        d.sorted(&base.sources)
    };
    if args.format == Format::Text && !unmatched.is_empty() {
        print_diagnostics(g, &unmatched, &base.sources, args.format);
    }
    let approved: Vec<String> = args
        .approved_by
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    let review = Review::build(&base, &head, &Filter::default());
    let verdict = gate::evaluate(&policy, &review, &approved);
    match args.format {
        Format::Json => {
            let mut v = gate::to_json(&review, &verdict, &approved);
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "warnings".into(),
                    crate::diag::to_json(&unmatched, &base.sources),
                );
            }
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default())
        }
        Format::Text => print!("{}", gate::render_text(&review, &verdict, &approved)),
    }
    // As in diff: the OS frees the compiled sides faster than drop would.
    std::mem::forget((base, head, review));
    if verdict.passed {
        Status::Ok
    } else {
        Status::Findings
    }
}
