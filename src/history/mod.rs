//! The one place that reads a run back from its journal: the typed run events
//! ([`event`]), the run's state ([`state`]), every node machine of a forward or undo pass
//! ([`replay`]), the batches a run walks ([`batches`]), the plan of undoing it ([`undo`]), its pauses and what a resume runs next ([`pause`])
//! and the typed details of each phase ([`detail`]). `resume`, `rollback`, `status`,
//! `runs`, the export and the driver all ask here, so they cannot disagree about what a
//! run is.
//!
//! This layer reads the journal's types and the node machine; it knows nothing of
//! transports, the driver or the command line.

pub mod batches;
pub mod detail;
pub mod event;
pub mod pause;
pub mod replay;
pub mod state;
pub mod undo;

pub use batches::journaled_batches;
pub use event::{
    BatchesEvent, Blocker, HALTED_PHASE, JournaledBatch, PreviousHolder, RETRY_PHASE, RUN_PHASE, RunEvent, UndoStage, event_name,
    run_events,
};
pub use pause::{Next, Pause, PauseReason, next_work, pause_after_pass, paused_where, pauses};
pub use replay::{open_enter, replay, replay_undo};
pub use state::{RunState, run_state, touched_a_node, touched_nodes};
pub use undo::{UNDO_PREFIX, journaled_undo_stages, undo_plan, undo_started};
