//! Determinism: the same inputs give the same bytes, whatever the order
//! the file system lists the manifests in, and however often obsgen runs.

use std::path::Path;

use crate::common::{TempDir, compiled, copy_tree, obsgen, repo, snapshot, walk};

/// Copies the files of `from` into `to` in reverse order, so that file
/// systems that list directories in creation order list them differently.
fn copy_reversed(from: &Path, to: &Path) {
    for file in walk(from).into_iter().rev() {
        let target = to.join(file.strip_prefix(from).expect("inside"));
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("a folder");
        std::fs::copy(&file, &target).expect("copying");
    }
}

#[test]
fn two_builds_of_the_same_input_are_byte_identical() {
    let example = repo().join("examples/acme");
    let first = TempDir::new("determinism-a");
    let second = TempDir::new("determinism-b");
    copy_tree(&example, first.path());
    copy_reversed(&example, second.path());
    for dir in [&first, &second] {
        let _ = std::fs::remove_dir_all(dir.join("generated"));
        obsgen(dir.path(), &["build"]).success();
    }
    let a = snapshot(&first.join("generated"));
    let b = snapshot(&second.join("generated"));
    assert!(a.len() > 1, "the example generates files");
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, contents) in &a {
        assert!(b[path] == *contents, "{path} differs between two builds");
    }
    // A second build over the first changes nothing.
    let again = obsgen(first.path(), &["build"]);
    again.success();
    assert!(!again.stdout.contains("wrote"), "{}", again.stdout);
    assert_eq!(snapshot(&first.join("generated")), a);
    // And in-process compilation agrees with itself.
    assert_eq!(compiled(first.path()), compiled(first.path()));
}

#[test]
fn manifest_order_on_disk_does_not_change_the_output() {
    // Rename the team folders so that they sort in the opposite order
    // (`web` first, `fulfilment` last). Only the manifests' paths, which
    // generated headers name, may differ; so map them back before comparing.
    let example = repo().join("examples/acme");
    let moved = TempDir::new("determinism-moved");
    copy_reversed(&example, moved.path());
    let renames = [
        ("services/fulfilment/", "services/z-fulfilment/"),
        ("services/payments/", "services/m-payments/"),
        ("services/web/", "services/a-web/"),
    ];
    for (from, to) in renames {
        std::fs::rename(moved.join(from), moved.join(to)).expect("renaming a folder");
    }
    let original = compiled(&example);
    let reordered = compiled(moved.path());
    assert_eq!(
        original.keys().collect::<Vec<_>>(),
        reordered.keys().collect::<Vec<_>>()
    );
    for (path, contents) in &reordered {
        let mut text = String::from_utf8_lossy(contents).into_owned();
        for (from, to) in renames {
            text = text.replace(to, from);
        }
        let expected = String::from_utf8_lossy(&original[path]);
        assert!(
            text == expected,
            "{path} depends on where the manifests are:\n{}",
            similar::TextDiff::from_lines(&*expected, &*text)
                .unified_diff()
                .header("original", "reordered")
        );
    }
}
