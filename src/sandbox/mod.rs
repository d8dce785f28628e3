//! STUB
pub struct InitOptions { pub dir: std::path::PathBuf, pub nodes: usize, pub start_delay: std::time::Duration, pub force: bool }
pub struct InitReport { pub inventory: std::path::PathBuf }
#[derive(Debug, thiserror::Error)] #[error("x")] pub struct SandboxError;
pub fn init(_o: &InitOptions) -> Result<InitReport, SandboxError> { Err(SandboxError) }
