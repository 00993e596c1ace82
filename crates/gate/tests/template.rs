//! The configs ward writes (`ward-oci spec`) against the gate's policy.

#[test]
fn hardened_spec_parses_and_passes_the_default_policy() {
    let v = ward_runtime::template::hardened_spec(false);
    let spec = ward_spec::parse(v.to_string().as_bytes()).expect("parses");
    ward_spec::validate::validate(&spec, false).expect("valid");
    let ctx = ward_policy::Context::default();
    let d = ward_policy::Policy::default().decide(&spec, &ctx, ward_policy::Scope::Container);
    assert!(d.allowed() && d.warned.is_empty(), "{d:?}");
    let f = ward_policy::audit::findings(&spec, &ctx);
    assert!(f.iter().all(|f| f.rule == "limits.cpu"), "{f:?}");
}
