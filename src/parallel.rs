//! Work on every core with scoped threads: the steps the pipeline's
//! parallel stages (loading, checking, fingerprinting, rendering) share.

use std::thread::ScopedJoinHandle;

/// The results of scoped threads, in the order of `handles`. A worker's
/// panic is raised again here, so that the panic hook reports it as if it
/// happened on the calling thread.
pub fn join_all<T>(handles: Vec<ScopedJoinHandle<'_, T>>) -> Vec<T> {
    handles
        .into_iter()
        .map(|handle| {
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
        .collect()
}

/// `work` on `items` cut into one part per core, each part on its own
/// thread; the parts' results in the items' order. Fewer than `min`
/// items (or one core) are one part, on this thread: spawning would cost
/// more than it saves.
pub fn in_parts<T, R, F>(items: Vec<T>, min: usize, work: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(Vec<T>) -> R + Sync,
{
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < min.max(2) {
        return vec![work(items)];
    }
    let size = items.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    let mut items = items.into_iter();
    loop {
        let part: Vec<T> = items.by_ref().take(size).collect();
        if part.is_empty() {
            break;
        }
        parts.push(part);
    }
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || work(part)))
            .collect();
        join_all(handles)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn parts_come_back_in_order_whatever_the_size() {
        for count in [0, 1, 5, 64, 1001] {
            let items: Vec<usize> = (0..count).collect();
            let parts = super::in_parts(items, 4, |part| part);
            let joined: Vec<usize> = parts.into_iter().flatten().collect();
            assert_eq!(joined, (0..count).collect::<Vec<_>>(), "{count}");
        }
    }
}
