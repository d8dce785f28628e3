//! What ringmaster knows about Apache Cassandra, as pure functions with no I/O:
//! the cassandra.yaml editor, the `nodetool status` parser and the system.log scanner.

pub mod keystore;
pub mod log;
pub mod ring;
pub mod status;
pub mod yaml;
