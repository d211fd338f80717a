//! Incremental builds: a build that keeps unchanged services' files (the
//! render cache, `src/output/reuse.rs`) writes exactly the tree a full
//! render writes, through edits of a service, of a dependency, of a caller,
//! of the platform and of generated files themselves; and `check` with the
//! cache still sees a hand-edited or deleted file.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{TempDir, compiled, copy_tree, obsgen, repo, snapshot};

/// The generated tree on disk, without the index.
fn on_disk(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = snapshot(&root.join("generated"));
    files.remove(".obsgen-index");
    files
}

/// Builds (with the cache of the previous build) and compares the tree
/// with a full render; returns the tree.
fn build_matches_full_render(root: &Path, step: &str) -> BTreeMap<String, Vec<u8>> {
    obsgen(root, &["build"]).success();
    let tree = on_disk(root);
    let wanted = compiled(root);
    assert_eq!(
        tree.keys().collect::<Vec<_>>(),
        wanted.keys().collect::<Vec<_>>(),
        "{step}: the files differ"
    );
    for (path, contents) in &wanted {
        assert!(
            tree[path] == *contents,
            "{step}: `{path}` is not what a full render writes"
        );
    }
    obsgen(root, &["check"]).success();
    tree
}

fn edit(root: &Path, relative: &str, from: &str, to: &str) {
    let path = root.join(relative);
    let text = std::fs::read_to_string(&path).expect("reading a manifest");
    assert!(text.contains(from), "`{relative}` holds `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("editing a manifest");
}

fn changed(before: &BTreeMap<String, Vec<u8>>, after: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    after
        .iter()
        .filter(|(path, contents)| before.get(*path) != Some(contents))
        .map(|(path, _)| path.clone())
        .collect()
}

const RETURNS: &str = "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {name: returns, team: fulfilment}\nspec:\n  language: go\n  framework: http\n  dependencies: [{service: inventory}]\n  slos: [{name: availability, objective: 99.5, indicator: {type: availability}}]\n";

#[test]
fn builds_that_keep_unchanged_services_write_what_a_full_render_writes() {
    let dir = TempDir::new("incremental");
    copy_tree(&repo().join("examples/acme"), dir.path());
    let root = dir.path();
    let _ = std::fs::remove_dir_all(root.join("generated"));
    let first = build_matches_full_render(root, "first build");
    // The cache is written, kept out of version control.
    let cache = root.join(".obsgen-cache");
    assert_eq!(
        std::fs::read_to_string(cache.join(".gitignore"))
            .expect("the cache's .gitignore")
            .lines()
            .last(),
        Some("*")
    );

    // A dependency of `checkout` changes team.
    edit(
        root,
        "services/payments/payments-api.yaml",
        "team: payments",
        "team: web",
    );
    let second = build_matches_full_render(root, "a dependency changed");
    assert!(!changed(&first, &second).is_empty());

    // A new caller: the dependency's dashboard lists it under "Called by".
    std::fs::write(root.join("services/fulfilment/returns.yaml"), RETURNS)
        .expect("adding a manifest");
    let third = build_matches_full_render(root, "a caller added");
    let touched = changed(&second, &third);
    assert!(
        touched
            .iter()
            .any(|p| p.contains("dashboards") && p.ends_with("/inventory.json")),
        "the dependency's dashboard changed with its new caller: {touched:?}"
    );

    // The caller goes: its files go, and the dependency's dashboard is as
    // before the caller came.
    std::fs::remove_file(root.join("services/fulfilment/returns.yaml")).expect("removing");
    let removed = build_matches_full_render(root, "a caller removed");
    assert_eq!(removed, second);
    std::fs::write(root.join("services/fulfilment/returns.yaml"), RETURNS)
        .expect("adding a manifest");
    assert_eq!(build_matches_full_render(root, "a caller back"), third);

    // The platform changes: every service's files may change.
    edit(
        root,
        "obsgen.yaml",
        "scrape_interval: 30s",
        "scrape_interval: 15s",
    );
    let fourth = build_matches_full_render(root, "the platform changed");
    assert!(!changed(&third, &fourth).is_empty());

    // A generated file edited by hand, and one deleted: `check` sees both
    // although the fingerprints did not change, and a build restores them.
    let rule = root.join("generated/prometheus/rules/checkout.yml");
    let original = std::fs::read_to_string(&rule).expect("checkout's rules");
    std::fs::write(&rule, original.replacen("expr:", "expr: ", 1)).expect("editing a rule file");
    let check = obsgen(root, &["check"]);
    check.code(1);
    assert!(
        check.stdout.contains("prometheus/rules/checkout.yml"),
        "{}",
        check.stdout
    );
    let dashboard = root.join("generated/grafana/dashboards/fulfilment/inventory.json");
    std::fs::remove_file(&dashboard).expect("deleting a dashboard");
    let check = obsgen(root, &["check"]);
    check.code(1);
    assert!(check.stdout.contains("inventory.json"), "{}", check.stdout);
    let restored = build_matches_full_render(root, "generated files edited");
    assert_eq!(restored, fourth);

    // Once a file has been read more than two seconds after it last
    // changed, the cache records its metadata and later runs do not read
    // it again; an edit of the same size with the modification time set
    // back is still seen (the change time moved).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(build_matches_full_render(root, "metadata recorded"), fourth);
    let cache_text = cache_files(&cache);
    assert!(
        cache_text.contains("\th\t")
            && cache_text
                .split('\t')
                .any(|field| field.matches(':').count() == 3),
        "the cache records metadata: {}",
        &cache_text[..cache_text.len().min(600)]
    );
    // A build that changes nothing leaves the cache as it is: the same
    // file, not written again.
    let stamps = cache_stamps(&cache);
    obsgen(root, &["build"]).success();
    assert_eq!(
        cache_stamps(&cache),
        stamps,
        "an up-to-date build wrote the render cache again"
    );
    let modified = std::fs::metadata(&rule)
        .and_then(|m| m.modified())
        .expect("a time");
    let same_size = original.replacen("expr:", "expr;", 1);
    assert_eq!(same_size.len(), original.len());
    std::fs::write(&rule, &same_size).expect("editing a rule file");
    std::fs::File::options()
        .write(true)
        .open(&rule)
        .and_then(|file| file.set_modified(modified))
        .expect("setting the modification time back");
    let check = obsgen(root, &["check"]);
    check.code(1);
    assert!(
        check.stdout.contains("prometheus/rules/checkout.yml"),
        "{}",
        check.stdout
    );
    assert_eq!(
        build_matches_full_render(root, "an edit of the same size"),
        fourth
    );

    // A damaged cache is no cache.
    for entry in std::fs::read_dir(&cache)
        .expect("the cache folder")
        .flatten()
    {
        if entry.file_name().to_string_lossy().starts_with("render-") {
            std::fs::write(entry.path(), "not a cache\n").expect("damaging the cache");
        }
    }
    assert_eq!(build_matches_full_render(root, "a damaged cache"), fourth);
    // And removing it is always safe.
    std::fs::remove_dir_all(&cache).expect("removing the cache");
    assert_eq!(build_matches_full_render(root, "no cache"), fourth);
}

/// Each render cache file in `cache`, with its inode and modification time.
fn cache_stamps(cache: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    use std::os::unix::fs::MetadataExt;
    let mut stamps: Vec<_> = std::fs::read_dir(cache)
        .expect("the cache folder")
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("render-"))
        .map(|entry| {
            let meta = entry.metadata().expect("a cache file's metadata");
            (
                entry.file_name().to_string_lossy().into_owned(),
                meta.ino(),
                meta.modified().expect("a modification time"),
            )
        })
        .collect();
    stamps.sort();
    assert!(!stamps.is_empty(), "no render cache in {}", cache.display());
    stamps
}

/// The text of every render cache file in `cache`.
fn cache_files(cache: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(cache)
        .expect("the cache folder")
        .flatten()
    {
        if entry.file_name().to_string_lossy().starts_with("render-") {
            text.push_str(&std::fs::read_to_string(entry.path()).expect("reading the cache"));
        }
    }
    text
}
