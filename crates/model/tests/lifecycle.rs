//! The interface endpoint lifecycle, as AWS documents it: which action moves
//! which state, and which changes nothing.

use vpcsim_model::EndpointAction::{Accept, Delete, Reject};
use vpcsim_model::EndpointState::{self, *};

#[test]
fn the_provider_accepts_and_rejects_and_the_owner_deletes() {
    let expect = |state: EndpointState, accept, reject, delete| {
        assert_eq!(state.after(Accept), accept, "accept from {}", state.as_str());
        assert_eq!(state.after(Reject), reject, "reject from {}", state.as_str());
        assert_eq!(state.after(Delete), delete, "delete from {}", state.as_str());
    };
    expect(PendingAcceptance, Available, Rejected, Deleted);
    expect(Pending, Available, Rejected, Deleted);
    expect(Available, Available, Rejected, Deleted);
    for s in [Rejected, Expired, Failed, Deleting] {
        expect(s, s, s, Deleted);
    }
    expect(Deleted, Deleted, Deleted, Deleted);
}
