//! `obsgen schema`: the JSON Schema of a manifest kind, for editors and CI.

use super::print::out;
use super::{SchemaKind, exit};
use crate::validate::{Kind, schema};

pub fn run(kind: SchemaKind) -> anyhow::Result<u8> {
    let kind = match kind {
        SchemaKind::Service => Kind::Service,
        SchemaKind::Platform => Kind::Platform,
    };
    out!("{}", schema::schema_text(kind))?;
    Ok(exit::OK)
}
