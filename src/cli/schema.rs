//! `obsgen schema`: the JSON Schema of a manifest kind, for editors and CI;
//! with `--format markdown`, the field reference generated from it.

use super::print::out;
use super::{Cli, Format, SchemaKind, exit};
use crate::validate::{Kind, manifest_reference, schema};

pub fn run(cli: &Cli, kind: SchemaKind) -> anyhow::Result<u8> {
    let kind = match kind {
        SchemaKind::Service => Kind::Service,
        SchemaKind::Platform => Kind::Platform,
    };
    if cli.format == Format::Markdown {
        out!("{}", manifest_reference::markdown(kind))?;
    } else {
        out!("{}", schema::schema_text(kind))?;
    }
    Ok(exit::OK)
}
