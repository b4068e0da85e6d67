//! Byte formats: frames parsed once and rewritten in place with their
//! checksums kept right (`packet`), GENEVE as Gateway Load Balancers speak it
//! (`geneve`), the link-local services' answers (`answers`). No fabric state
//! and no AWS rule here.

pub(crate) mod answers;
#[doc(hidden)]
pub mod geneve;
pub mod packet;
