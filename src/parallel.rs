//! Work on every core with scoped threads: the one step the pipeline's
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
