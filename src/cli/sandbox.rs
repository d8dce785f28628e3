//! STUB
#[derive(Debug, clap::Args)] pub struct SandboxArgs { x: Option<String> }
pub fn cmd_sandbox(_a: &SandboxArgs) -> Result<i32, crate::sandbox::SandboxError> { Ok(0) }
