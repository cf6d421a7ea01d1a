//! Rule `rack-units`: devices on overlapping rack units, and devices above
//! the top of their rack.
//!
//! **What it does.** Reports two devices (nodes or switches) whose units
//! overlap in one rack (SC0401, both shown), and a device whose top unit
//! (`position + height - 1`) is above the rack's `height` (SC0402). Each
//! rack's devices are sorted by position and swept once.
//!
//! **Why it matters.** The rack elevation is the technicians' work order:
//! two machines cannot be mounted in one unit, and a machine above the top
//! of the rack cannot be mounted at all.
//!
//! **Example.**
//! ```kdl
//! rack r01 { height 42; }
//! node r01n01 { rack r01; position 3; height 2; }
//! node r01n02 { rack r01; position 4; }    // SC0401: U4 is taken by r01n01
//! switch r01-tor1 { rack r01; position 42; height 2; ports "swp1-48"; }   // SC0402
//! ```

use std::collections::BTreeMap;

use super::super::{Ctx, Rule};
use super::Order;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Placement;

pub static RULE: Rule = Rule {
    name: "rack-units",
    codes: &[Code::RackUnitOverlap, Code::BeyondRackHeight],
    check,
    resolved: false,
};

struct Device<'a> {
    kind: &'static str,
    name: &'a str,
    p: &'a Placement,
    bottom: u32,
    top: u32,
}

fn units(bottom: u32, top: u32) -> String {
    if bottom == top {
        format!("U{bottom}")
    } else {
        format!("U{bottom}–U{top}")
    }
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    let mut by_rack: BTreeMap<&str, Vec<Device>> = BTreeMap::new();
    // A device declared twice under one name is SC0101's: only the first
    // (the one the index keeps) takes rack units.
    let placed = site
        .switches
        .iter()
        .enumerate()
        .filter(|(i, s)| cx.index.switches.get(s.name.as_str()) == Some(i))
        .map(|(_, s)| ("switch", s.name.as_str(), &s.placement))
        .chain(
            site.nodes
                .iter()
                .enumerate()
                .filter(|(i, n)| cx.index.nodes.get(n.name.as_str()) == Some(i))
                .map(|(_, n)| ("node", n.name.as_str(), &n.placement)),
        );
    for (kind, name, placement) in placed {
        let Some(p) = placement else { continue };
        // Unknown racks are SC0201's.
        let Some(rack) = site.rack(cx.index, p.rack.as_str()) else {
            continue;
        };
        let (bottom, top) = (*p.units().start(), *p.units().end());
        if top > rack.height.value {
            let mut d = Diagnostic::error(
                Code::BeyondRackHeight,
                format!(
                    "{kind} `{name}` occupies {} but rack `{}` is {}U high",
                    units(bottom, top),
                    rack.name.value,
                    rack.height.value
                ),
            )
            .label(p.position.span, format!("top unit is U{top}"));
            if !rack.height.span.is_builtin() {
                d = d.label(rack.height.span, "the rack's height");
            } else {
                d = d.label(rack.name.span, "42U high by default");
            }
            let lowest = rack.height.value + 1 - p.height.value.min(rack.height.value);
            diags.push(d.help(format!(
                "a {}U device fits at positions 1–{lowest} of this rack",
                p.height.value
            )));
        }
        by_rack.entry(p.rack.as_str()).or_default().push(Device {
            kind,
            name,
            p,
            bottom,
            top,
        });
    }
    let order = Order::new(cx);
    for (rack, mut devs) in by_rack {
        devs.sort_by_key(|d| (d.bottom, order.key(d.p.position.span)));
        // The device reaching highest so far: anything starting at or
        // below its top overlaps it.
        let mut high: Option<usize> = None;
        for i in 0..devs.len() {
            if let Some(h) = high {
                let (a, b) = (&devs[h], &devs[i]);
                if b.bottom <= a.top {
                    // The later declaration leads: it is the one that moved in.
                    let (again, first) =
                        if order.key(b.p.position.span) > order.key(a.p.position.span) {
                            (b, a)
                        } else {
                            (a, b)
                        };
                    let shared = units(b.bottom, a.top.min(b.top));
                    diags.push(
                        Diagnostic::error(
                            Code::RackUnitOverlap,
                            format!(
                                "{} `{}` and {} `{}` both occupy {shared} of rack `{rack}`",
                                again.kind, again.name, first.kind, first.name
                            ),
                        )
                        .label(
                            again.p.position.span,
                            format!(
                                "`{}` occupies {}",
                                again.name,
                                units(again.bottom, again.top)
                            ),
                        )
                        .label(
                            first.p.position.span,
                            format!(
                                "`{}` occupies {}",
                                first.name,
                                units(first.bottom, first.top)
                            ),
                        )
                        .help("one device per rack unit: move one of them, or fix its `height`"),
                    );
                }
            }
            if high.is_none_or(|h| devs[i].top > devs[h].top) {
                high = Some(i);
            }
        }
    }
}
