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

/// `work` on each of `items`, taken one at a time by whichever core is
/// free; the results in no particular order. Unlike [`in_parts`], the
/// items are never moved into per-thread parts: each goes straight from
/// `items` into `work` and is dropped there, so memory that items own
/// falls as the work goes. Fewer than `min` items (or one core) are worked
/// on this thread; a helper thread that cannot be started leaves its share
/// to the others.
pub fn unordered<T, R, F>(items: Vec<T>, min: usize, work: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < min.max(2) {
        return items.into_iter().map(work).collect();
    }
    // The results go into one list of the right size as they come: per
    // thread lists merged at the end would hold every result twice.
    let results = std::sync::Mutex::new(Vec::with_capacity(items.len()));
    let queue = std::sync::Mutex::new(items.into_iter());
    let next = || {
        queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .next()
    };
    let run = || {
        while let Some(item) = next() {
            let result = work(item);
            results
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(result);
        }
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(scope, run).ok())
            .collect();
        run();
        join_all(helpers);
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `items` sorted by `order` (not stably): with two cores or more and at
/// least `min` items, each half is sorted on its own core and the two are
/// merged in one pass, in place but for a copy of one half. The 1.2
/// million paths of a 100,000-service index took 375 ms to sort on one
/// core of the benchmark machine (most of it waiting for memory); halves
/// on both cores and the merge take about 210 ms.
pub fn sort_unstable_by<T, F>(mut items: Vec<T>, min: usize, order: F) -> Vec<T>
where
    T: Send + Copy,
    F: Fn(&T, &T) -> std::cmp::Ordering + Sync,
{
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < min.max(2) {
        items.sort_unstable_by(&order);
        return items;
    }
    let middle = items.len() / 2;
    let (left, right) = items.split_at_mut(middle);
    let halves_sorted = std::thread::scope(|scope| {
        let order = &order;
        match std::thread::Builder::new().spawn_scoped(scope, move || left.sort_unstable_by(order))
        {
            Ok(helper) => {
                right.sort_unstable_by(order);
                join_all(vec![helper]);
                true
            }
            Err(_) => false,
        }
    });
    if !halves_sorted {
        // No thread to sort the other half: one core sorts the whole.
        items.sort_unstable_by(&order);
        return items;
    }
    // Merged in place with a copy of the left half only: the slot written
    // next is never past the next one read from the right half.
    let left: Vec<T> = items.get(..middle).unwrap_or_default().to_vec();
    let (mut from_left, mut from_right, mut written) = (0, middle, 0);
    while let Some(&a) = left.get(from_left) {
        let take_right = items
            .get(from_right)
            .filter(|&b| order(&a, b) == std::cmp::Ordering::Greater)
            .copied();
        let next = match take_right {
            Some(b) => {
                from_right += 1;
                b
            }
            None => {
                from_left += 1;
                a
            }
        };
        if let Some(slot) = items.get_mut(written) {
            *slot = next;
        }
        written += 1;
    }
    // What is left of the right half is in place already.
    items
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

    #[test]
    fn sorting_in_halves_sorts_whatever_the_size() {
        for count in [0usize, 1, 2, 3, 64, 1001, 40_000] {
            // A fixed shuffle with repeats: each value twice, from a
            // multiplicative walk.
            let items: Vec<u64> = (0..count as u64).map(|i| (i * 7919 % 10_007) / 2).collect();
            let mut expected = items.clone();
            expected.sort_unstable();
            for min in [1, 1 << 14] {
                let sorted = super::sort_unstable_by(items.clone(), min, |a, b| a.cmp(b));
                assert_eq!(sorted, expected, "{count} items, halves from {min}");
            }
        }
    }

    #[test]
    fn every_item_is_worked_once_whatever_the_size() {
        for count in [0, 1, 5, 64, 1001] {
            let items: Vec<usize> = (0..count).collect();
            let mut done = super::unordered(items, 4, |item| item * 2);
            done.sort_unstable();
            assert_eq!(
                done,
                (0..count).map(|i| i * 2).collect::<Vec<_>>(),
                "{count}"
            );
        }
    }
}
