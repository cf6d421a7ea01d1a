//! Rule `asn-classes`: AS numbers of a class that has no place where they
//! are given.
//!
//! **What it does.** Looks up every AS number a site gives — an external
//! peer's `asn`, a switch's `asn`, a node's fixed `bgp asn`, a session's
//! `remote-as`, and the site's `asn-pool` — in [`CLASSES`], the one table
//! of ASN classes with their RFCs, and reports:
//! - (SC0611, error) AS 23456, AS_TRANS, anywhere; an `asn-pool` that
//!   contains it is refused too, since the allocator would hand it out;
//! - (SC0612, warning) a reserved ASN (65535, 4294967295; 0 cannot be
//!   written), or a pool that contains one;
//! - (SC0613, warning) a node or switch inside the fabric with an ASN
//!   outside the private ranges (a public ASN, or a documentation one),
//!   or a pool reaching outside them. External peers may have any ASN but
//!   AS_TRANS and the reserved ones: public, private or documentation.
//!
//! **Why it matters.** AS_TRANS only stands in for a 4-byte ASN towards
//! speakers that lack them; FRR refuses it as a `remote-as`, and a device
//! configured with it breaks 4-byte ASN handling of its peers. Reserved
//! ASNs must not appear in routing (RFC 7300, RFC 7607). A public ASN
//! inside the fabric is somebody else's: routes leaking with it would be
//! taken for theirs, and a peer filtering on it would drop ours.
//!
//! **Example.**
//! ```kdl
//! bgp-peer transit-c { asn 23456; address "192.0.2.9"; switches r01-tor1 }   // SC0611
//! switch r01-tor1 { asn 3320; … }                                            // SC0613 (warning)
//! ```

use super::super::{Ctx, Rule};
use super::layers;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::AddrSpec;
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "asn-classes",
    codes: &[Code::AsnTrans, Code::AsnReserved, Code::AsnPublicInFabric],
    check,
    resolved: false,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Public,
    Private,
    Documentation,
    Reserved,
    AsTrans,
}

/// The ASN classes: (first, last, class, source). Anything not listed is
/// public. Ordered by first ASN.
pub(crate) const CLASSES: &[(u32, u32, Class, &str)] = &[
    (0, 0, Class::Reserved, "RFC 7607"),
    (23456, 23456, Class::AsTrans, "RFC 6793"),
    (64496, 64511, Class::Documentation, "RFC 5398"),
    (64512, 65534, Class::Private, "RFC 6996"),
    (65535, 65535, Class::Reserved, "RFC 7300"),
    (65536, 65551, Class::Documentation, "RFC 5398"),
    (4_200_000_000, 4_294_967_294, Class::Private, "RFC 6996"),
    (4_294_967_295, 4_294_967_295, Class::Reserved, "RFC 7300"),
];

/// The class of `asn` and the RFC that gives it ("" for public).
pub(crate) fn class(asn: u32) -> (Class, &'static str) {
    CLASSES
        .iter()
        .find(|(a, b, _, _)| (*a..=*b).contains(&asn))
        .map(|&(_, _, c, r)| (c, r))
        .unwrap_or((Class::Public, ""))
}

/// Who holds an ASN: inside the fabric (nodes, switches) or outside it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Fabric,
    External,
}

fn one(diags: &mut Diagnostics, asn: u32, span: Span, whose: &str, place: Place) {
    let (c, rfc) = class(asn);
    let d = match c {
        Class::AsTrans => Diagnostic::error(
            Code::AsnTrans,
            format!("{whose} is AS 23456, AS_TRANS ({rfc}), which is never a real AS"),
        )
        .label(span, "AS_TRANS")
        .help("AS 23456 stands in for 4-byte ASNs towards old BGP speakers; FRR refuses it. Give the real (4-byte) ASN"),
        Class::Reserved => Diagnostic::warning(
            Code::AsnReserved,
            format!("{whose} is AS {asn}, reserved by {rfc}"),
        )
        .label(span, "reserved ASN")
        .help("a reserved ASN must not be used in BGP: take one from a private range (64512-65534, 4200000000-4294967294)"),
        Class::Public | Class::Documentation if place == Place::Fabric => {
            let what = if c == Class::Public {
                "a public ASN".to_string()
            } else {
                format!("a documentation ASN ({rfc})")
            };
            Diagnostic::warning(
                Code::AsnPublicInFabric,
                format!("{whose} is AS {asn}, {what} inside the fabric"),
            )
            .label(span, "not a private ASN")
            .help("devices inside the fabric take private ASNs (RFC 6996: 64512-65534, 4200000000-4294967294); a public ASN belongs to whoever holds it")
        }
        _ => return,
    };
    diags.push(d);
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    for p in &site.bgp_peers {
        let whose = format!("the ASN of external BGP peer `{}`", p.name.value);
        one(diags, p.asn.value, p.asn.span, &whose, Place::External);
    }
    for s in &site.switches {
        if let Some(a) = &s.asn {
            let whose = format!("the ASN of switch `{}`", s.name.value);
            one(diags, a.value, a.span, &whose, Place::Fabric);
        }
    }
    for (what, st) in layers(site) {
        let Some(bgp) = &st.bgp else { continue };
        if let Some(a) = &bgp.asn {
            if let AddrSpec::Fixed(n) = a.value {
                one(
                    diags,
                    n,
                    a.span,
                    &format!("the ASN of {what}"),
                    Place::Fabric,
                );
            }
        }
        for sess in &bgp.sessions {
            if let Some(r) = &sess.remote_as {
                // The far end of a node's session is a switch of the
                // fabric; what it should be is SC0602's business.
                if class(r.value).0 == Class::AsTrans {
                    let whose =
                        format!("the remote-as of {what}'s session to `{}`", sess.peer.value);
                    one(diags, r.value, r.span, &whose, Place::External);
                }
            }
        }
    }
    if let Some(pool) = site.site.as_ref().and_then(|s| s.asn_pool.as_ref()) {
        let r = pool.value;
        let contains = |a: u32| r.start <= a && a <= r.end;
        if contains(23456) {
            diags.push(
                Diagnostic::error(Code::AsnTrans, format!("the ASN pool {r} contains AS 23456, AS_TRANS (RFC 6793)"))
                    .label(pool.span, "the allocator could hand out AS_TRANS")
                    .help("use a pool inside a private range: 64512-65534 or 4200000000-4294967294 (RFC 6996)"),
            );
        }
        if let Some(&(a, _, _, rfc)) = CLASSES
            .iter()
            .find(|(a, _, c, _)| *c == Class::Reserved && contains(*a))
        {
            diags.push(
                Diagnostic::warning(Code::AsnReserved, format!("the ASN pool {r} contains AS {a}, reserved by {rfc}"))
                    .label(pool.span, "contains a reserved ASN")
                    .help("use a pool inside a private range: 64512-65534 or 4200000000-4294967294 (RFC 6996)"),
            );
        }
        let private = CLASSES
            .iter()
            .any(|&(a, b, c, _)| c == Class::Private && a <= r.start && r.end <= b);
        if !private {
            diags.push(
                Diagnostic::warning(Code::AsnPublicInFabric, format!("the ASN pool {r} reaches outside the private ASN ranges"))
                    .label(pool.span, "nodes would get ASNs that are not private")
                    .help("use a pool inside a private range: 64512-65534 or 4200000000-4294967294 (RFC 6996)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_ordered_and_classifies() {
        for w in CLASSES.windows(2) {
            assert!(w[0].1 < w[1].0, "overlap or disorder at {}", w[1].0);
        }
        assert_eq!(class(23456).0, Class::AsTrans);
        assert_eq!(class(65535).0, Class::Reserved);
        assert_eq!(class(4_294_967_295).0, Class::Reserved);
        assert_eq!(class(0).0, Class::Reserved);
        assert_eq!(class(64496).0, Class::Documentation);
        assert_eq!(class(65551).0, Class::Documentation);
        assert_eq!(class(65552).0, Class::Public);
        assert_eq!(class(64512).0, Class::Private);
        assert_eq!(class(4_200_000_000).0, Class::Private);
        assert_eq!(class(3320).0, Class::Public);
    }
}
