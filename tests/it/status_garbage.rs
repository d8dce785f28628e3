//! `nodetool status` parser on garbage: every case must be an error that names the line
//! and quotes it, never a list of nodes (a failed or garbled run must not read as `UN`).

use ringmaster::cassandra::status::{LineProblem, StatusParseError, parse_status};

const BLOCK_HEAD: &str = concat!(
    "Datacenter: datacenter1\n",
    "=======================\n",
    "Status=Up/Down\n",
    "|/ State=Normal/Leaving/Joining/Moving\n",
    "--  Address    Load        Tokens  Owns (effective)  Host ID                               Rack \n",
);

const GOOD_ROW: &str = "UN  127.0.0.1  104.33 KiB  16      66.7%             c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1\n";

/// A one-DC listing whose node row (line 6) is `row`.
fn with_row(row: &str) -> String {
    format!("{BLOCK_HEAD}{row}\n\n")
}

/// Asserts a `Line` error at `line_no` quoting `line`, and returns its problem.
fn line_problem(text: &str, line_no: usize, line: &str) -> LineProblem {
    match parse_status(text) {
        Err(err @ StatusParseError::Line { .. }) => {
            let message = err.to_string();
            assert!(
                message.contains(&format!("line {line_no}:")) && message.contains(&format!("`{line}`")),
                "message must name line {line_no} and quote it: {message}"
            );
            let StatusParseError::Line { line_no: got_no, line: got_line, problem } = err else { unreachable!() };
            assert_eq!((got_no, got_line.as_str()), (line_no, line));
            problem
        }
        other => panic!("expected a line error, got {other:?}"),
    }
}

#[test]
fn good_row_parses_so_the_mutations_below_are_meaningful() {
    let nodes = parse_status(&with_row(GOOD_ROW.trim_end())).expect("baseline parses");
    assert_eq!(nodes.len(), 1);
    assert!(nodes[0].is_up_normal());
}

#[test]
fn empty_input_is_an_error() {
    assert_eq!(parse_status(""), Err(StatusParseError::Empty));
    assert_eq!(parse_status("  \n\n \t\n"), Err(StatusParseError::Empty));
}

#[test]
fn output_without_datacenter_header_is_an_error() {
    let text = format!("\nsome banner\n{GOOD_ROW}");
    let err = parse_status(&text).expect_err("no datacenter");
    assert_eq!(err, StatusParseError::NoDatacenter { line_no: 2, line: "some banner".into() });
    assert!(err.to_string().contains("line 2: `some banner`"), "{err}");
}

#[test]
fn row_before_any_header_is_an_error() {
    let text = format!("{GOOD_ROW}{}", with_row(GOOD_ROW.trim_end()));
    assert_eq!(line_problem(&text, 1, GOOD_ROW.trim_end()), LineProblem::RowBeforeDatacenter);
}

#[test]
fn jmx_connect_failure_is_an_error() {
    let line = "nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection refused'.";
    let err = parse_status(&format!("{line}\n")).expect_err("jmx failure");
    assert_eq!(err, StatusParseError::NodetoolFailed { line_no: 1, line: line.into() });
    assert!(err.to_string().contains(line), "{err}");
}

#[test]
fn unknown_keyspace_error_is_an_error() {
    let text = "\nError: The keyspace nosuch, does not exist\n";
    assert_eq!(
        parse_status(text),
        Err(StatusParseError::NodetoolFailed { line_no: 2, line: "Error: The keyspace nosuch, does not exist".into() })
    );
}

#[test]
fn unknown_status_letter_is_an_error() {
    let row = "XN  127.0.0.1  104.33 KiB  16      66.7%             c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1";
    assert_eq!(line_problem(&with_row(row), 6, row), LineProblem::UnknownStatus('X'));
}

#[test]
fn unknown_state_letter_is_an_error() {
    let row = "UX  127.0.0.1  104.33 KiB  16      66.7%             c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1";
    assert_eq!(line_problem(&with_row(row), 6, row), LineProblem::UnknownState('X'));
}

#[test]
fn bad_host_id_is_an_error() {
    for host_id in ["c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d1", "c2a1f6b05f4e4c7a9d433b1e2f0a6d11", "z2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11"] {
        let row = format!("UN  127.0.0.1  104.33 KiB  16      66.7%             {host_id}  rack1");
        assert_eq!(line_problem(&with_row(&row), 6, &row), LineProblem::BadHostId(host_id.into()));
    }
}

#[test]
fn malformed_rows_are_errors() {
    let cases: [(&str, LineProblem); 8] = [
        ("UN  127.0.0.1  104.33 KiB  16      66.7%", LineProblem::MissingCell("Host ID")),
        (
            "UN  127.0.0.1  104.33 KB/s  16      66.7%             c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1",
            LineProblem::BadLoad("104.33 KB/s".into()),
        ),
        (
            "UN  127.0.0.1  lots  16      66.7%             c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1",
            LineProblem::BadLoad("lots 16".into()),
        ),
        (
            "UN  127.0.0.1  104.33 KiB  sixteen  66.7%         c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1",
            LineProblem::BadTokens("sixteen".into()),
        ),
        (
            "UN  127.0.0.1  104.33 KiB  16      66.7              c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1",
            LineProblem::BadOwns("66.7".into()),
        ),
        (
            "UN  127.0.0.1:99999  104.33 KiB  16  66.7%  c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1",
            LineProblem::BadAddress("127.0.0.1:99999".into()),
        ),
        (
            "UNN  127.0.0.1  104.33 KiB  16      66.7%             c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1",
            LineProblem::BadStatusState("UNN".into()),
        ),
        ("UN  127.0.0.1  104.33 KiB  16      66.7%             c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11", LineProblem::MissingCell("Rack")),
    ];
    for (row, problem) in cases {
        assert_eq!(line_problem(&with_row(row), 6, row), problem, "row `{row}`");
    }
}

#[test]
fn datacenter_without_rows_is_an_error() {
    // Output cut off right after the header row.
    assert_eq!(parse_status(BLOCK_HEAD), Err(StatusParseError::EmptyDatacenter { line_no: 1, datacenter: "datacenter1".into() }));
    // 3.11 style: the next datacenter starts before the first one listed anyone.
    let text = format!("{BLOCK_HEAD}{}", with_row(GOOD_ROW.trim_end()).replace("datacenter1", "dc2"));
    assert_eq!(parse_status(&text), Err(StatusParseError::EmptyDatacenter { line_no: 1, datacenter: "datacenter1".into() }));
}

#[test]
fn broken_block_structure_is_an_error() {
    let no_underline = "Datacenter: dc1\nStatus=Up/Down\n";
    assert_eq!(line_problem(no_underline, 2, "Status=Up/Down"), LineProblem::ExpectedUnderline);
    let unknown_column = BLOCK_HEAD.replace("Rack ", "Zone ");
    let header = unknown_column.lines().nth(4).expect("header").trim_end();
    assert_eq!(line_problem(&format!("{unknown_column}{GOOD_ROW}"), 5, header), LineProblem::UnknownColumn("Zone".into()));
}

#[test]
fn row_after_the_end_of_the_table_is_an_error() {
    let text = format!("{}{GOOD_ROW}", with_row(GOOD_ROW.trim_end()));
    assert_eq!(line_problem(&text, 8, GOOD_ROW.trim_end()), LineProblem::RowAfterTable);
}

#[test]
fn text_after_the_notes_is_an_error() {
    let text = format!("{}Note: something\nrandom trailing text\n", with_row(GOOD_ROW.trim_end()));
    assert_eq!(line_problem(&text, 9, "random trailing text"), LineProblem::Unexpected);
}
