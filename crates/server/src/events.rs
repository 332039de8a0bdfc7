//! Subscribers of the domain event stream, wired for the whole server.

use kernel::events::EventDispatcher;
use kernel::{Db, SharedClock};

/// The dispatcher with every module's subscribers registered.
pub fn dispatcher(db: Db, clock: SharedClock) -> EventDispatcher {
    let mut dispatcher = EventDispatcher::new(db, clock);
    // Operators can follow the stream with MERIDIAN_LOG=meridian::events=debug.
    dispatcher.subscribe("event-log", |event| async move {
        tracing::debug!(target: "meridian::events", id = %event.id, r#type = %event.event_type,
            org_id = %event.org_id, record = %event.record.id, "event");
        Ok(())
    });
    dispatcher
}
