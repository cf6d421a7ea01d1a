//! Rack elevations: the colour of each role, shared by every rack of the
//! site so that one role looks the same everywhere. The drawing itself is
//! `templates/site/racks/rack.svg.j2` (one per rack) and `index.html.j2`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::render::context::SiteView;

/// Fill colours, light enough for dark text, distinct side by side.
const PALETTE: &[&str] = &[
    "#8dd3c7", "#fdb462", "#bebada", "#fb8072", "#80b1d3", "#b3de69", "#fccde5", "#ffffb3",
    "#bc80bd", "#ccebc5", "#ffed6f", "#d9d9d9",
];

/// The colour of devices without a role.
pub const NO_ROLE: &str = "#f0f0f0";

/// The label shown for a device without a role.
pub const NO_ROLE_LABEL: &str = "(no role)";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LegendEntry {
    pub role: String,
    pub colour: String,
}

/// Role → colour for every role in the site (node roles and switch roles),
/// assigned in sorted role order: deterministic, and stable as long as the
/// set of roles is. Past the palette, colours repeat (the legend and each
/// device's label still name the role).
pub fn role_colours(site: &SiteView) -> BTreeMap<String, String> {
    let mut roles: Vec<&str> = site
        .racks
        .iter()
        .flat_map(|r| r.devices.iter().map(|d| d.role.as_str()))
        .filter(|r| !r.is_empty())
        .collect();
    roles.sort_unstable();
    roles.dedup();
    let mut m: BTreeMap<String, String> = roles
        .iter()
        .enumerate()
        .map(|(i, r)| (r.to_string(), PALETTE[i % PALETTE.len()].to_string()))
        .collect();
    m.insert(String::new(), NO_ROLE.to_string());
    m
}

/// The legend of one rack: the roles present in it, sorted.
pub fn legend(
    devices_roles: impl Iterator<Item = String>,
    colours: &BTreeMap<String, String>,
) -> Vec<LegendEntry> {
    let mut roles: Vec<String> = devices_roles.collect();
    roles.sort();
    roles.dedup();
    roles
        .into_iter()
        .map(|r| LegendEntry {
            colour: colours.get(&r).cloned().unwrap_or_else(|| NO_ROLE.into()),
            role: if r.is_empty() {
                NO_ROLE_LABEL.to_string()
            } else {
                r
            },
        })
        .collect()
}
