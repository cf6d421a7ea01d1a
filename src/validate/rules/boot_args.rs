//! Rule `boot-args-seed`: kernel arguments that name a seed of their own.
//!
//! **What it does.** Reports (SC1205) an image `args` with a `ds=` word,
//! and (SC1209) an image `args` or URL (`kernel`, `initrd`, `root`) that
//! uses `${root-url}` when the image has no `root`: the script sets that
//! iPXE variable only from `root`, and iPXE expands an unset one to
//! nothing (`fetch=`), so the kernel boots without its root. Any other
//! `${name}` there that neither iPXE's built-in settings nor the scripts
//! define (a typo: `${root_url}`, `${rooturl}`) is SC1211. A word of the
//! `args` or a URL that iPXE reads as script syntax (`;`, `||`, `&&`
//! standing alone, or a word starting with `#`) is SC1222: the `kernel`
//! line ends there, and the seed and `network-config=` siteconf appends
//! after the image's arguments never reach the kernel.
//!
//! **Why it matters.** siteconf appends each node's own seed URL
//! (`ds=nocloud-net;s=<base-url>/nodes/<node>/`) to the kernel command
//! line. With a second `ds=`, which one cloud-init follows depends on its
//! version: a node could configure itself from another seed — another
//! node's hostname and addresses.
//!
//! **Example.**
//! ```kdl
//! image debian { kernel "http://10.0.0.2/images/vmlinuz"; args "console=ttyS0 ds=nocloud"; }   // SC1205
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "boot-args-seed",
    codes: &[
        Code::BootArgsSeed,
        Code::BootRootUrlUnset,
        Code::BootIpxeVariableUnset,
        Code::BootArgsIpxeCommand,
    ],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(boot) = cx.site.boot() else {
        return;
    };
    for i in &boot.images {
        variables(diags, i);
        ipxe_commands(diags, i);
        let Some(a) = &i.args else { continue };
        if i.root.is_none() && a.value.contains("${root-url}") {
            diags.push(
                Diagnostic::error(
                    Code::BootRootUrlUnset,
                    format!(
                        "the `args` of image `{}` use `${{root-url}}`, but the image has no `root`",
                        i.name.value
                    ),
                )
                .label(a.span, "iPXE expands `${root-url}` to nothing here")
                .label(i.name.span, "no `root` in this image")
                .help("add `root \"http://…\"` (the root image or installer URL) to the image, or take `${root-url}` out of its args"),
            );
        }
        if a.value.split_whitespace().any(|w| w.starts_with("ds=")) {
            diags.push(
                Diagnostic::error(
                    Code::BootArgsSeed,
                    format!("the `args` of image `{}` set `ds=`", i.name.value),
                )
                .label(a.span, "siteconf adds each node's own `ds=`")
                .help(
                    "remove `ds=…`: every node's script points cloud-init at the node's own seed",
                ),
            );
        }
    }
}

/// The first word of `s` that iPXE takes as script syntax, not as an
/// argument: `;`, `||`, `&&` standing alone end the command, and a word
/// starting with `#` begins a comment (iPXE `src/core/exec.c`,
/// `command_terminator`; words are split at white space).
pub(crate) fn ipxe_command_word(s: &str) -> Option<&str> {
    s.split_whitespace()
        .find(|w| matches!(*w, ";" | "||" | "&&") || w.starts_with('#'))
}

/// SC1222 for an image's `args` or URL holding such a word: the `kernel`
/// line of every node's script (and `initrd`, `set root-url`) would end
/// or be commented out before the seed, `network-config=` and
/// `|| goto failed` that siteconf appends.
fn ipxe_commands(diags: &mut Diagnostics, i: &crate::model::BootImage) {
    let fields = std::iter::once((&i.kernel, "kernel"))
        .chain(i.initrds.iter().map(|u| (u, "initrd")))
        .chain(i.root.iter().map(|u| (u, "root")))
        .chain(i.args.iter().map(|a| (a, "args")));
    for (u, field) in fields {
        let Some(w) = ipxe_command_word(&u.value) else {
            continue;
        };
        let effect = if w.starts_with('#') {
            "starts an iPXE comment: the rest of the line is ignored"
        } else {
            "ends the iPXE command: the words after it run as a command of their own"
        };
        diags.push(
            Diagnostic::error(
                Code::BootArgsIpxeCommand,
                format!(
                    "the `{field}` of image `{}` holds the word `{w}`, which {effect}, so the seed (`ds=`), `network-config=` and `|| goto failed` that each node's script appends to the `kernel` line are lost: the node boots with no identity, or loops",
                    i.name.value
                ),
            )
            .label(u.span, format!("`{w}` is iPXE syntax here, not a kernel argument"))
            .help(format!("take `{w}` out of the {field} (iPXE keeps `;` and `#` inside a word, as in `a;b`, only a word that is `;`, `||`, `&&` or starts with `#` is script syntax)")),
        );
    }
}

/// The settings iPXE defines itself (`settings` in iPXE's documentation:
/// DHCP-derived, SMBIOS, network device and build settings), by the name
/// after any scope (`net0/`, `netX/`, `smbios/`).
const IPXE_SETTINGS: &[&str] = &[
    "ip",
    "netmask",
    "gateway",
    "dns",
    "domain",
    "hostname",
    "filename",
    "next-server",
    "root-path",
    "san-filename",
    "user-class",
    "vendor-class",
    "username",
    "password",
    "reverse-username",
    "reverse-password",
    "initiator-iqn",
    "keep-san",
    "skip-san-boot",
    "syslog",
    "syslogs",
    "ntp",
    "dhcp-server",
    "priority",
    "scriptlet",
    "keymap",
    "uuid",
    "manufacturer",
    "product",
    "serial",
    "asset",
    "board-serial",
    "mac",
    "busid",
    "bustype",
    "busloc",
    "chip",
    "ifname",
    "linktype",
    "mtu",
    "ssid",
    "active-scan",
    "key",
    "buildarch",
    "platform",
    "version",
    "unixtime",
    "uptime",
    "cpuvendor",
    "cpumodel",
    "memsize",
    "cwuri",
    "cwduri",
    "trust",
    "cert",
    "privkey",
    "crosscert",
    "ip6",
    "len6",
    "gateway6",
    "dns6",
    "dnssl",
    "pci",
];

/// The variables siteconf's scripts set before they use an image's URLs
/// and arguments (`templates/site/boot/*.ipxe.j2`).
const SCRIPT_SETTINGS: &[&str] = &["root-url"];

/// Each `${…}` in `s`: (as written, the setting's name without scope and
/// type).
fn ipxe_variables(s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else { break };
        let inner = &after[..j];
        let name = inner.split(':').next().unwrap_or("");
        let name = name.rsplit('/').next().unwrap_or("");
        out.push((inner, name));
        rest = &after[j + 1..];
    }
    out
}

/// Whether iPXE or the script sets the setting `name` (a DHCP option
/// number, `${67}` or `${net0/175.8:uint8}`, always names one).
fn defined(name: &str) -> bool {
    IPXE_SETTINGS.contains(&name)
        || SCRIPT_SETTINGS.contains(&name)
        || (!name.is_empty() && name.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// SC1211 for each `${name}` of the image's URLs and arguments that
/// nothing sets (`${root-url}` without `root` is SC1209, above and here).
fn variables(diags: &mut Diagnostics, i: &crate::model::BootImage) {
    let urls = std::iter::once((&i.kernel, "kernel"))
        .chain(i.initrds.iter().map(|u| (u, "initrd")))
        .chain(i.root.iter().map(|u| (u, "root")));
    for (u, field) in urls {
        if i.root.is_none() && u.value.contains("${root-url}") {
            diags.push(
                Diagnostic::error(
                    Code::BootRootUrlUnset,
                    format!(
                        "the `{field}` of image `{}` uses `${{root-url}}`, but the image has no `root`",
                        i.name.value
                    ),
                )
                .label(u.span, "iPXE expands `${root-url}` to nothing here")
                .label(i.name.span, "no `root` in this image")
                .help("add `root \"http://…\"` to the image, or write the URL out in full"),
            );
        }
    }
    let urls = std::iter::once((&i.kernel, "kernel"))
        .chain(i.initrds.iter().map(|u| (u, "initrd")))
        .chain(i.root.iter().map(|u| (u, "root")))
        .chain(i.args.iter().map(|a| (a, "args")));
    for (u, field) in urls {
        let mut seen: Vec<&str> = Vec::new();
        for (written, name) in ipxe_variables(&u.value) {
            if defined(name) || seen.contains(&written) {
                continue;
            }
            seen.push(written);
            let near = super::closest(name, SCRIPT_SETTINGS.iter().chain(IPXE_SETTINGS).copied());
            let help = match near {
                Some(n) => format!("did you mean `${{{n}}}`? Variables the scripts set: `${{root-url}}` (from the image's `root`); iPXE's own settings (`${{netX/mac}}`, `${{ip}}`, `${{buildarch}}` …) may be used too"),
                None => "write the value out, or use `${root-url}` (set from the image's `root`) or one of iPXE's own settings (`${netX/mac}`, `${ip}`, `${buildarch}` …)".to_string(),
            };
            diags.push(
                Diagnostic::error(
                    Code::BootIpxeVariableUnset,
                    format!(
                        "the `{field}` of image `{}` uses the iPXE variable `${{{written}}}`, which nothing sets: iPXE expands it to nothing",
                        i.name.value
                    ),
                )
                .label(u.span, format!("`${{{written}}}` is empty when the script runs"))
                .help(help),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;
    use super::ipxe_variables;

    fn image(body: &str) -> Vec<(String, String)> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.3"
                boot {{ servers "10.0.0.2"; images-dir "/srv/images"; image debian {{ {body} }} }}
                defaults {{ boot-image debian; }} }}
            network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; }}"#
        );
        check_kdl(&text)
            .into_iter()
            .map(|d| (d.code.as_str().to_string(), d.message))
            .collect()
    }

    #[test]
    fn ipxe_command_words_are_errors() {
        let k = r#"kernel "http://10.0.0.2/images/vmlinuz";"#;
        for bad in [
            "quiet # x",
            "quiet ; reboot",
            "quiet || x",
            "a && b",
            "#quiet",
        ] {
            let d = image(&format!(r#"{k} args "console=ttyS0 {bad}""#));
            assert!(
                d.iter().any(|(c, m)| c == "SC1222" && m.contains("`args`")),
                "{bad}: {d:?}"
            );
        }
        // Inside a word, iPXE keeps them.
        assert!(image(&format!(r#"{k} args "a;b x#y c||d""#)).is_empty());
    }

    #[test]
    fn variables_are_taken_apart() {
        assert_eq!(
            ipxe_variables("a=${root-url} b=${netX/mac:hexhyp} ${x"),
            [("root-url", "root-url"), ("netX/mac:hexhyp", "mac")]
        );
    }

    #[test]
    fn undefined_variables_are_errors() {
        let k = r#"kernel "http://10.0.0.2/images/vmlinuz";"#;
        // Set by the script, or by iPXE itself.
        assert!(image(&format!(
            r#"{k} root "http://10.0.0.2/images/root"; args "fetch=${{root-url}} mac=${{net0/mac}} ${{buildarch}} ${{67}}""#
        ))
        .is_empty());
        let d = image(&format!(
            r#"{k} root "http://10.0.0.2/images/root"; args "fetch=${{root_url}}""#
        ));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].0, "SC1211");
        assert!(d[0].1.contains("`${root_url}`"), "{d:?}");
        let d = image(r#"kernel "http://10.0.0.2/images/${arch}/vmlinuz";"#);
        assert_eq!(d[0].0, "SC1211", "{d:?}");
        // `${root-url}` without a root, in a URL: SC1209.
        let d = image(r#"kernel "http://10.0.0.2/images/vmlinuz"; initrd "${root-url}/initrd";"#);
        assert!(d.iter().any(|(c, _)| c == "SC1209"), "{d:?}");
    }
}
