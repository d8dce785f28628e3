//! STUB
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatusNode { pub datacenter: String, pub status: String, pub state: String, pub address: String, pub port: Option<u16>, pub load: Option<String>, pub tokens: Option<u32>, pub owns: Option<String>, pub host_id: String, pub token: Option<String>, pub rack: String }
impl StatusNode { pub fn is_up_normal(&self) -> bool { self.status == "U" && self.state == "N" } }
#[derive(Debug, thiserror::Error)] #[error("x")] pub struct StatusParseError;
pub fn parse_status(_t: &str) -> Result<Vec<StatusNode>, StatusParseError> { Err(StatusParseError) }
