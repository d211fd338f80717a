//! Fingerprints of what each service's files are rendered from.
//!
//! A service's own files (its rules, dashboard, pipeline, load test…) are a
//! function of the platform, of the service, and of its neighbours: the
//! services it names as dependencies (a dashboard links to theirs) and the
//! services naming it ("Called by"). Nothing else of other services may be
//! read by a per-service renderer (see [`crate::backend::ServiceRenderer`]).
//! The fingerprint of a service hashes exactly these parts of the model,
//! plus a salt identifying the obsgen binary; two builds with the same
//! fingerprint render the same bytes for that service, so a build can keep
//! the files already on disk instead of rendering them again
//! ([`crate::output::reuse`]).
//!
//! The model is hashed through its `Debug` form: every model type derives
//! `Debug`, which prints every field, so a field added to the model is in
//! the fingerprint without anyone remembering to add it. Collections in
//! the model are vectors and `BTreeMap`s, whose order is fixed.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Model;
use crate::output::ownership::hash64;

/// The fingerprints of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprints {
    /// Each service's, in the model's order.
    pub services: Vec<u64>,
    /// The whole model's (what shared files, such as an environment's
    /// `prometheus.yml`, are rendered from): the platform and every
    /// service's fingerprint.
    pub whole: u64,
}

/// The fingerprints of `model` as rendered by the binary `salt` names.
pub fn fingerprints(model: &Model, salt: u64) -> Fingerprints {
    let mut buffer = String::new();
    let _ = write!(buffer, "{salt:x}\n{:?}", model.platform);
    let platform = hash64(buffer.as_bytes());
    let services = service_fingerprints(model, platform);
    let mut words = vec![platform, services.len() as u64];
    words.extend_from_slice(&services);
    Fingerprints {
        whole: hash_words(&words),
        services,
    }
}

fn hash_words(words: &[u64]) -> u64 {
    let bytes: Vec<u8> = words.iter().flat_map(|word| word.to_le_bytes()).collect();
    hash64(&bytes)
}

/// Each service's fingerprint: the platform's hash, its own, its
/// dependencies' and its callers'.
fn service_fingerprints(model: &Model, platform: u64) -> Vec<u64> {
    let own = own_hashes(model);
    let index: BTreeMap<&str, usize> = model
        .services
        .iter()
        .enumerate()
        .map(|(position, service)| (service.name.as_str(), position))
        .collect();
    let mut callers: Vec<Vec<usize>> = vec![Vec::new(); model.services.len()];
    for (position, service) in model.services.iter().enumerate() {
        for dependency in &service.dependencies {
            if let Some(list) = index
                .get(dependency.name.as_str())
                .and_then(|&target| callers.get_mut(target))
            {
                list.push(position);
            }
        }
    }
    model
        .services
        .iter()
        .zip(&own)
        .zip(&callers)
        .map(|((service, &own_hash), callers)| {
            let mut words = vec![platform, own_hash, service.dependencies.len() as u64];
            for dependency in &service.dependencies {
                let hash = index
                    .get(dependency.name.as_str())
                    .and_then(|&target| own.get(target))
                    .copied()
                    // Not a service of the repository: its name is in the
                    // service's own hash already.
                    .unwrap_or(0);
                words.push(hash);
            }
            words.push(u64::MAX);
            words.extend(callers.iter().filter_map(|&caller| own.get(caller)));
            hash_words(&words)
        })
        .collect()
}

/// The hash of each service's own model, on every core.
fn own_hashes(model: &Model) -> Vec<u64> {
    let services: Vec<&super::Service> = model.services.iter().collect();
    crate::parallel::in_parts(services, 256, |services| {
        let mut buffer = String::new();
        services
            .into_iter()
            .map(|service| {
                buffer.clear();
                let _ = write!(buffer, "{service:?}");
                hash64(buffer.as_bytes())
            })
            .collect::<Vec<u64>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::prometheus::model_from;

    const PLATFORM: &str = "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {name: p}\nspec:\n  environments: [{name: staging}, {name: production, production: true}]\n  teams: {alpha: {}}\n";

    fn service(name: &str, depends_on: &[&str], description: &str) -> String {
        let dependencies: Vec<String> = depends_on
            .iter()
            .map(|d| format!("{{name: {d}, protocol: http}}"))
            .collect();
        format!(
            "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {{name: {name}, team: alpha, description: {description}}}\nspec: {{dependencies: [{}]}}\n",
            dependencies.join(", ")
        )
    }

    fn keys(manifests: &[String], salt: u64) -> BTreeMap<String, u64> {
        let refs: Vec<&str> = manifests.iter().map(String::as_str).collect();
        let model = model_from(PLATFORM, &refs);
        model
            .services
            .iter()
            .map(|s| s.name.clone())
            .zip(fingerprints(&model, salt).services)
            .collect()
    }

    #[test]
    fn a_change_reaches_the_service_its_dependencies_and_its_callers_only() {
        let before = [
            service("a", &["b"], "one"),
            service("b", &[], "two"),
            service("c", &[], "three"),
            service("d", &["a"], "four"),
        ];
        let base = keys(&before, 1);
        assert_eq!(base, keys(&before, 1), "stable");
        // `a` changes: `a`, its dependency `b` (Called by) and its caller
        // `d` (links to `a`) change; `c` does not.
        let mut after = before.clone();
        after[0] = service("a", &["b"], "changed");
        let changed = keys(&after, 1);
        for (name, same) in [("a", false), ("b", false), ("c", true), ("d", false)] {
            assert_eq!(base[name] == changed[name], same, "{name}");
        }
        // A new caller of `c` changes `c`.
        let mut after = before.to_vec();
        after.push(service("e", &["c"], "five"));
        let changed = keys(&after, 1);
        assert_ne!(base["c"], changed["c"]);
        assert_eq!(base["b"], changed["b"]);
        // Another binary (salt) changes every service.
        let other = keys(&before, 2);
        assert!(base.iter().all(|(name, key)| other[name] != *key));
    }
}
