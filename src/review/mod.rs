//! Review tools: what the generated configuration means, for the people
//! who review a change to it and the service owners who use it.
//!
//! They read rendered files back ([`facts`]), by kinds recognised from
//! their paths in one table ([`file_kind`]), and never the model: the
//! change summary ([`summary`], `obsgen diff --summary`) compares what was
//! committed with what would be written, and the service inspector
//! ([`explain`], `obsgen explain SERVICE`) lists what one service gets.
//! This sits after [`crate::output`] in the pipeline and changes nothing
//! that is written.

pub mod explain;
pub mod facts;
pub mod file_kind;
pub mod summary;
