//! STUB
#[derive(Debug, Clone, PartialEq)] pub enum Value { Bool(bool), Str(String), Int(i64) }
#[derive(Debug, Clone)] pub struct Setting { pub key: String, pub value: Value, pub secret: bool }
#[derive(Debug, Clone, Copy)] pub enum Release { V3_11, V4_0, V4_1Plus }
pub struct EditOptions { pub release: Option<Release> }
pub struct Edit { pub bytes: Vec<u8>, pub changed: bool, pub release: Release }
#[derive(Debug, thiserror::Error)] #[error("x")] pub struct YamlError;
pub fn edit_server_encryption(_p: &str, _i: &[u8], _s: &[Setting], _o: &EditOptions) -> Result<Edit, YamlError> { Err(YamlError) }
pub fn masked_diff(_p: &str, _o: &[u8], _n: &[u8], _s: &[&str]) -> String { String::new() }
