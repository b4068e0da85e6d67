//! The whole validation state: every family's layer, topmost last. The passes
//! that read them all stand on it: `traffic.rs` and `build.rs`.

use crate::context::on_top_of;
use crate::diagnostic::SourceMap;
use crate::endpoints::Endpoints;

/// Every family's facts; nothing of its own.
pub(crate) struct Builder<'a> {
    below: Endpoints<'a>,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(map: &'a SourceMap<'a>) -> Self {
        Builder { below: Endpoints::new(map) }
    }
}

on_top_of!(Builder, Endpoints);
