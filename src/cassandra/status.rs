//! Parser for `nodetool status` output, the only evidence ringmaster accepts that a
//! restarted node is back as `UN` in every peer's view.
//!
//! One parser covers every layout Cassandra prints (notes section 4): the 3.11 printf
//! formatter (overflowing Load column, no blank line between datacenters), the 4.0+
//! `TableBuilder` (cells padded across all datacenters, trailing spaces), the
//! single-token layout (`Token` column), `Owns` vs `Owns (effective)`, `?` cells,
//! `-pp` addresses with ports, IPv6 in Java's uncompressed form and JVM-locale numbers.
//! Rows are read token by token in the order the header names the columns, so column
//! widths never matter. Anything that is not exactly this shape is an error naming the
//! line: a garbled or failed `nodetool` run must never read as "all nodes up".

use serde::{Deserialize, Serialize};
use std::net::Ipv6Addr;

/// One endpoint row of `nodetool status`, with its datacenter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusNode {
    /// Datacenter name from the `Datacenter:` line above the row.
    pub datacenter: String,
    /// Status letter: `U` (up), `D` (down) or `?` (unknown).
    pub status: String,
    /// State letter: `N` (normal), `L` (leaving), `J` (joining) or `M` (moving).
    pub state: String,
    /// Address as printed, without the port that `-pp` adds and without IPv6 brackets.
    pub address: String,
    /// Port printed by `-pp/--print-port`, if any.
    pub port: Option<u16>,
    /// Load as printed (`98.47 KiB`, `1,2 GiB`); `None` when nodetool printed `?`.
    pub load: Option<String>,
    /// Number of tokens; `None` in the single-token layout (no `Tokens` column).
    pub tokens: Option<u32>,
    /// Ownership as printed (`66.7%`, `66,7%`); `None` when nodetool printed `?`.
    pub owns: Option<String>,
    /// Host ID, a 36-character UUID.
    pub host_id: String,
    /// The node's token in the single-token layout; `None` otherwise.
    pub token: Option<String>,
    /// Rack name.
    pub rack: String,
}

impl StatusNode {
    /// Returns true when the row reads `UN` (up and normal).
    pub fn is_up_normal(&self) -> bool {
        self.status == "U" && self.state == "N"
    }
}

/// Why `nodetool status` output could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusParseError {
    /// The output holds nothing but whitespace.
    #[error("`nodetool status` output is empty")]
    Empty,
    /// The output never names a datacenter, so it is not a status listing at all.
    #[error("`nodetool status` output has no `Datacenter:` header, line {line_no}: `{line}`")]
    NoDatacenter {
        /// 1-based number of the first non-blank line.
        line_no: usize,
        /// That line, trailing whitespace removed.
        line: String,
    },
    /// nodetool printed its own failure (JMX connect failure, `Error: ...`).
    #[error("`nodetool status` failed, line {line_no}: `{line}`")]
    NodetoolFailed {
        /// 1-based line number.
        line_no: usize,
        /// The line, trailing whitespace removed.
        line: String,
    },
    /// A line does not fit the status layout.
    #[error("`nodetool status` output, line {line_no}: {problem}: `{line}`")]
    Line {
        /// 1-based line number.
        line_no: usize,
        /// The line, trailing whitespace removed.
        line: String,
        /// What is wrong with it.
        problem: LineProblem,
    },
    /// A datacenter block ended without listing a single node (truncated output).
    #[error("`nodetool status` output, line {line_no}: datacenter `{datacenter}` lists no nodes")]
    EmptyDatacenter {
        /// 1-based line number of the `Datacenter:` line.
        line_no: usize,
        /// The datacenter name.
        datacenter: String,
    },
}

/// What is wrong with one line of `nodetool status` output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    /// A node row (or header row) appears before any `Datacenter:` line.
    #[error("row before any `Datacenter:` header")]
    RowBeforeDatacenter,
    /// A table line follows the blank line that ended a table, with no new
    /// `Datacenter:` header in between.
    #[error("row after the end of the table, outside any `Datacenter:` block")]
    RowAfterTable,
    /// The line is none of the lines a status block contains.
    #[error("unexpected line")]
    Unexpected,
    /// `Datacenter:` has no name after it.
    #[error("datacenter name missing")]
    MissingDatacenterName,
    /// The line after `Datacenter:` is not an `=` underline.
    #[error("expected the `====` underline")]
    ExpectedUnderline,
    /// The `Status=Up/Down` legend line is missing.
    #[error("expected `Status=Up/Down`")]
    ExpectedStatusLegend,
    /// The `|/ State=...` legend line is missing.
    #[error("expected `|/ State=Normal/Leaving/Joining/Moving`")]
    ExpectedStateLegend,
    /// The column header row (`--  Address ...`) is missing.
    #[error("expected the `--  Address ...` header row")]
    ExpectedHeader,
    /// The header names a column this parser does not know.
    #[error("unknown column `{0}`")]
    UnknownColumn(String),
    /// The header lacks a column every layout has.
    #[error("header lacks the `{0}` column")]
    MissingColumn(&'static str),
    /// The header names a column twice.
    #[error("column `{0}` appears twice")]
    DuplicateColumn(String),
    /// The row's first cell is not two letters.
    #[error("status/state cell `{0}` is not two letters")]
    BadStatusState(String),
    /// The status letter is not `U`, `D` or `?`.
    #[error("unknown status letter `{0}`")]
    UnknownStatus(char),
    /// The state letter is not `N`, `L`, `J` or `M`.
    #[error("unknown state letter `{0}`")]
    UnknownState(char),
    /// The row ends before the named column.
    #[error("row ends before the `{0}` column")]
    MissingCell(&'static str),
    /// The Address cell is neither an IP address nor a host name (with optional port).
    #[error("bad address `{0}`")]
    BadAddress(String),
    /// The Load cell is neither `?` nor a number with a size unit.
    #[error("bad load `{0}`")]
    BadLoad(String),
    /// The Tokens cell is not a count.
    #[error("bad token count `{0}`")]
    BadTokens(String),
    /// The Owns cell is neither `?` nor a percentage.
    #[error("bad ownership `{0}`")]
    BadOwns(String),
    /// The Host ID cell is not a 36-character UUID.
    #[error("bad host id `{0}`")]
    BadHostId(String),
    /// Text follows the last column.
    #[error("unexpected text `{0}` after the last column")]
    TrailingText(String),
}

/// The columns nodetool prints, in whatever order the header gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Address,
    Load,
    Tokens,
    Owns,
    HostId,
    Token,
    Rack,
}

impl Column {
    fn from_header(name: &str) -> Option<Column> {
        Some(match name {
            "Address" => Column::Address,
            "Load" => Column::Load,
            "Tokens" => Column::Tokens,
            "Owns" | "Owns (effective)" => Column::Owns,
            "Host ID" => Column::HostId,
            "Token" => Column::Token,
            "Rack" => Column::Rack,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Column::Address => "Address",
            Column::Load => "Load",
            Column::Tokens => "Tokens",
            Column::Owns => "Owns",
            Column::HostId => "Host ID",
            Column::Token => "Token",
            Column::Rack => "Rack",
        }
    }
}

/// Where the parser is inside a datacenter block.
enum Expect {
    /// Before the first `Datacenter:` line.
    Datacenter,
    Underline,
    StatusLegend,
    StateLegend,
    Header,
    /// Reading node rows with the columns of the block's header.
    Rows(Vec<Column>),
    /// After the blank line that ends the tables: only `Note:` lines may follow.
    Notes,
}

/// Parses the complete stdout of `nodetool status [keyspace]`.
///
/// Returns every node row in output order (which is hash order, not sorted: look nodes
/// up by address). Fails on anything that is not a well-formed status listing,
/// including nodetool's own failure messages.
pub fn parse_status(text: &str) -> Result<Vec<StatusNode>, StatusParseError> {
    let mut numbered = text.lines().map(str::trim_end).enumerate().map(|(i, l)| (i + 1, l));
    let Some((first_no, first)) = numbered.clone().find(|(_, l)| !l.is_empty()) else {
        return Err(StatusParseError::Empty);
    };
    // nodetool's own failure text wins over every layout complaint: it says what went wrong.
    if let Some((line_no, line)) = numbered.find(|(_, l)| is_nodetool_failure(l)) {
        return Err(StatusParseError::NodetoolFailed { line_no, line: line.to_owned() });
    }
    if !text.lines().any(|l| l.starts_with("Datacenter:")) {
        return Err(StatusParseError::NoDatacenter { line_no: first_no, line: first.to_owned() });
    }
    let mut nodes = Vec::new();
    let mut expect = Expect::Datacenter;
    // The current block: datacenter name, its line number, rows seen so far.
    let mut block: Option<(String, usize, usize)> = None;

    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim_end();
        let fail = |problem: LineProblem| StatusParseError::Line { line_no, line: line.to_owned(), problem };
        if let Some(name) = line.strip_prefix("Datacenter:") {
            close_block(&block)?;
            let name = name.trim();
            if name.is_empty() {
                return Err(fail(LineProblem::MissingDatacenterName));
            }
            block = Some((name.to_owned(), line_no, 0));
            expect = Expect::Underline;
            continue;
        }
        match &expect {
            Expect::Datacenter => {
                if line.is_empty() {
                    continue;
                }
                return Err(fail(if looks_like_table_line(line) { LineProblem::RowBeforeDatacenter } else { LineProblem::Unexpected }));
            }
            Expect::Underline => {
                if line.is_empty() || !line.bytes().all(|b| b == b'=') {
                    return Err(fail(LineProblem::ExpectedUnderline));
                }
                expect = Expect::StatusLegend;
            }
            Expect::StatusLegend => {
                if !line.starts_with("Status=") {
                    return Err(fail(LineProblem::ExpectedStatusLegend));
                }
                expect = Expect::StateLegend;
            }
            Expect::StateLegend => {
                if !line.starts_with("|/ State=") {
                    return Err(fail(LineProblem::ExpectedStateLegend));
                }
                expect = Expect::Header;
            }
            Expect::Header => {
                let columns = parse_header(line).map_err(fail)?;
                expect = Expect::Rows(columns);
            }
            Expect::Rows(columns) => {
                if line.is_empty() {
                    // 4.0+ separates blocks by a blank line; the last block is followed
                    // by one before the notes. Either way this block's rows are done.
                    close_block(&block)?;
                    expect = Expect::Notes;
                    continue;
                }
                let Some((datacenter, _, rows)) = block.as_mut() else {
                    return Err(fail(LineProblem::RowBeforeDatacenter));
                };
                nodes.push(parse_row(line, columns, datacenter).map_err(fail)?);
                *rows += 1;
            }
            Expect::Notes => {
                if !line.is_empty() && !line.starts_with("Note: ") {
                    return Err(fail(if looks_like_table_line(line) { LineProblem::RowAfterTable } else { LineProblem::Unexpected }));
                }
            }
        }
    }
    // A block cut off before its header row has no rows either: report it the same way.
    close_block(&block)?;
    Ok(nodes)
}

/// True for the lines nodetool prints instead of a listing: the JMX connect failure
/// (`nodetool: Failed to connect to ...`) and `Error: ...` (e.g. unknown keyspace).
fn is_nodetool_failure(line: &str) -> bool {
    line.starts_with("nodetool: ") || line.starts_with("Error: ")
}

/// Fails when the block being closed listed no node (truncated or garbled output).
fn close_block(block: &Option<(String, usize, usize)>) -> Result<(), StatusParseError> {
    match block {
        Some((datacenter, line_no, 0)) => Err(StatusParseError::EmptyDatacenter { line_no: *line_no, datacenter: datacenter.clone() }),
        _ => Ok(()),
    }
}

/// True for lines that belong inside a datacenter block (legend, header or node row),
/// so errors can say "before any header" rather than just "unexpected".
fn looks_like_table_line(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    line.starts_with("--")
        || line.starts_with("Status=")
        || line.starts_with("|/")
        || line.starts_with('=')
        || (first.chars().count() == 2 && first.chars().next().is_some_and(|c| matches!(c, 'U' | 'D' | '?')))
}

/// Reads the column names from a `--  Address  Load ...` row.
///
/// Columns are separated by at least two spaces in both formatters, while names such as
/// `Owns (effective)` and `Host ID` contain single spaces.
fn parse_header(line: &str) -> Result<Vec<Column>, LineProblem> {
    let Some(rest) = line.strip_prefix("--") else {
        return Err(LineProblem::ExpectedHeader);
    };
    let mut columns = Vec::new();
    for name in rest.split("  ").map(str::trim).filter(|s| !s.is_empty()) {
        let column = Column::from_header(name).ok_or_else(|| LineProblem::UnknownColumn(name.to_owned()))?;
        if columns.contains(&column) {
            return Err(LineProblem::DuplicateColumn(name.to_owned()));
        }
        columns.push(column);
    }
    for required in [Column::Address, Column::Load, Column::Owns, Column::HostId, Column::Rack] {
        if !columns.contains(&required) {
            return Err(LineProblem::MissingColumn(required.name()));
        }
    }
    Ok(columns)
}

/// Splits a line into whitespace-separated cells while keeping access to the remainder.
struct Cells<'a> {
    rest: &'a str,
}

impl<'a> Cells<'a> {
    fn next(&mut self) -> Option<&'a str> {
        let trimmed = self.rest.trim_start();
        if trimmed.is_empty() {
            return None;
        }
        let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        let (cell, rest) = trimmed.split_at(end);
        self.rest = rest;
        Some(cell)
    }

    fn remainder(&mut self) -> &'a str {
        let rest = self.rest.trim();
        self.rest = "";
        rest
    }
}

/// Parses one node row, consuming cells in header order.
fn parse_row(line: &str, columns: &[Column], datacenter: &str) -> Result<StatusNode, LineProblem> {
    let mut cells = Cells { rest: line };
    let code = cells.next().unwrap_or("");
    let mut letters = code.chars();
    let (Some(status), Some(state), None) = (letters.next(), letters.next(), letters.next()) else {
        return Err(LineProblem::BadStatusState(code.to_owned()));
    };
    if !matches!(status, 'U' | 'D' | '?') {
        return Err(LineProblem::UnknownStatus(status));
    }
    if !matches!(state, 'N' | 'L' | 'J' | 'M') {
        return Err(LineProblem::UnknownState(state));
    }

    let mut node = StatusNode {
        datacenter: datacenter.to_owned(),
        status: status.to_string(),
        state: state.to_string(),
        address: String::new(),
        port: None,
        load: None,
        tokens: None,
        owns: None,
        host_id: String::new(),
        token: None,
        rack: String::new(),
    };
    for (position, &column) in columns.iter().enumerate() {
        let is_last = position + 1 == columns.len();
        if column == Column::Rack && is_last {
            // The last column takes the rest of the line (4.0+ pads it with spaces).
            let rack = cells.remainder();
            if rack.is_empty() {
                return Err(LineProblem::MissingCell("Rack"));
            }
            node.rack = rack.to_owned();
            continue;
        }
        let cell = cells.next().ok_or(LineProblem::MissingCell(column.name()))?;
        match column {
            Column::Address => {
                let (address, port) = split_address(cell).ok_or_else(|| LineProblem::BadAddress(cell.to_owned()))?;
                node.address = address;
                node.port = port;
            }
            Column::Load => {
                if cell != "?" {
                    // Load is `<number> <unit>`: the only cell with a space inside.
                    let unit = cells.next().unwrap_or("");
                    let load = format!("{cell} {unit}");
                    if !is_decimal(cell) || !is_size_unit(unit) {
                        return Err(LineProblem::BadLoad(load.trim_end().to_owned()));
                    }
                    node.load = Some(load);
                }
            }
            Column::Tokens => {
                node.tokens = Some(cell.parse::<u32>().map_err(|_| LineProblem::BadTokens(cell.to_owned()))?);
            }
            Column::Owns => {
                if cell != "?" {
                    match cell.strip_suffix('%') {
                        Some(number) if is_decimal(number) => node.owns = Some(cell.to_owned()),
                        _ => return Err(LineProblem::BadOwns(cell.to_owned())),
                    }
                }
            }
            Column::HostId => {
                if cell.len() != 36 || uuid::Uuid::parse_str(cell).is_err() {
                    return Err(LineProblem::BadHostId(cell.to_owned()));
                }
                node.host_id = cell.to_owned();
            }
            Column::Token => node.token = Some(cell.to_owned()),
            Column::Rack => node.rack = cell.to_owned(),
        }
    }
    let trailing = cells.remainder();
    if !trailing.is_empty() {
        return Err(LineProblem::TrailingText(trailing.to_owned()));
    }
    Ok(node)
}

/// A number as Java's `DecimalFormat` prints it in any locale: digits, optionally a
/// `.` or `,` decimal separator and more digits (the patterns have no grouping).
fn is_decimal(text: &str) -> bool {
    let (int, frac) = match text.find(['.', ',']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

/// The units of `FileUtils.stringifyFileSize` (binary since 3.6, decimal names before).
fn is_size_unit(unit: &str) -> bool {
    matches!(unit, "bytes" | "KiB" | "MiB" | "GiB" | "TiB" | "KB" | "MB" | "GB" | "TB")
}

/// Splits a printed address into host and `-pp` port.
///
/// Forms: `127.0.0.1`, `2001:db8:0:0:0:0:0:11`, `host.example`, `127.0.0.1:7000`,
/// `host.example:7000`, `[2001:db8:0:0:0:0:0:11]:7000`. Returns `None` for anything else.
fn split_address(cell: &str) -> Option<(String, Option<u16>)> {
    if let Some(bracketed) = cell.strip_prefix('[') {
        let (host, port) = bracketed.split_once("]:")?;
        host.parse::<Ipv6Addr>().ok()?;
        return Some((host.to_owned(), Some(port.parse().ok()?)));
    }
    match cell.matches(':').count() {
        0 => is_host(cell).then(|| (cell.to_owned(), None)),
        1 => {
            let (host, port) = cell.split_once(':')?;
            is_host(host).then_some(())?;
            Some((host.to_owned(), Some(port.parse().ok()?)))
        }
        _ => cell.parse::<Ipv6Addr>().ok().map(|_| (cell.to_owned(), None)),
    }
}

/// An IPv4 address or a DNS name (nodetool `-r`): letters, digits, `-`, `_` and dots.
fn is_host(text: &str) -> bool {
    !text.is_empty() && !text.starts_with(['.', '-']) && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_address_handles_every_printed_form() {
        assert_eq!(split_address("127.0.0.1"), Some(("127.0.0.1".into(), None)));
        assert_eq!(split_address("127.0.0.1:7000"), Some(("127.0.0.1".into(), Some(7000))));
        assert_eq!(split_address("[2001:db8:0:0:0:0:0:11]:7000"), Some(("2001:db8:0:0:0:0:0:11".into(), Some(7000))));
        assert_eq!(split_address("2001:db8:0:0:0:0:0:11"), Some(("2001:db8:0:0:0:0:0:11".into(), None)));
        assert_eq!(split_address("node1.example:7000"), Some(("node1.example".into(), Some(7000))));
        assert_eq!(split_address("127.0.0.1:70000"), None);
        assert_eq!(split_address("[::1]"), None);
        assert_eq!(split_address("a:b:c"), None);
        assert_eq!(split_address("bad/addr"), None);
    }

    #[test]
    fn decimals_accept_both_locale_separators_only() {
        assert!(is_decimal("98.47"));
        assert!(is_decimal("1,2"));
        assert!(is_decimal("256"));
        assert!(!is_decimal("1.2.3"));
        assert!(!is_decimal("1."));
        assert!(!is_decimal(".5"));
        assert!(!is_decimal("1 000"));
        assert!(!is_decimal(""));
    }

    #[test]
    fn header_columns_are_read_by_name() {
        let columns = parse_header("--  Address    Load       Owns (effective)  Host ID   Token   Rack ").expect("valid header");
        assert_eq!(columns, vec![Column::Address, Column::Load, Column::Owns, Column::HostId, Column::Token, Column::Rack]);
        assert_eq!(parse_header("--  Address  Load  Owns  Host ID  Rack  Zone"), Err(LineProblem::UnknownColumn("Zone".into())));
        assert_eq!(parse_header("--  Address  Load  Host ID  Rack"), Err(LineProblem::MissingColumn("Owns")));
    }
}
