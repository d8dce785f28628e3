//! `nodetool status` parser against every upstream-shaped fixture, with every field of
//! every row written out, plus hand-rendered `-pp` and non-English-locale outputs.
//!
//! The six upstream fixtures (`/work/shared/fixtures/nodetool-status/`, rendered from the
//! Status.java / TableBuilder.java formatter code of 3.11.17, 4.1.7 and 5.0.2) are
//! embedded byte for byte so the test runs anywhere; `embedded_fixtures_match_shared_copies`
//! re-checks the bytes when the shared directory is present.

use ringmaster::cassandra::status::{StatusNode, parse_status};

/// `status-3.11-2dc-vnodes256-DN.txt`, byte for byte.
const STATUS_3_11_2DC_VNODES256_DN: &str = concat!(
    "Datacenter: DC1\n",
    "===============\n",
    "Status=Up/Down\n",
    "|/ State=Normal/Leaving/Joining/Moving\n",
    "--  Address    Load       Tokens       Owns (effective)  Host ID                               Rack\n",
    "UN  10.0.1.11  412.36 MiB  256          100.0%            a0b1c2d3-e4f5-4a6b-8c7d-8e9f0a1b2c11  RAC1\n",
    "UN  10.0.1.12  405.9 MiB  256          100.0%            b1c2d3e4-f5a6-4b7c-9d8e-9f0a1b2c3d12  RAC1\n",
    "DN  10.0.1.13  398.12 MiB  256          100.0%            c2d3e4f5-a6b7-4c8d-ae9f-0a1b2c3d4e13  RAC1\n",
    "Datacenter: DC2\n",
    "===============\n",
    "Status=Up/Down\n",
    "|/ State=Normal/Leaving/Joining/Moving\n",
    "--  Address    Load       Tokens       Owns (effective)  Host ID                               Rack\n",
    "UN  10.0.2.21  420.01 MiB  256          100.0%            d3e4f5a6-b7c8-4d9e-bf0a-1b2c3d4e5f21  RAC1\n",
    "UN  10.0.2.22  401.77 MiB  256          100.0%            e4f5a6b7-c8d9-4e0f-80a1-2c3d4e5f6a22  RAC1\n",
    "UN  10.0.2.23  409.5 MiB  256          100.0%            f5a6b7c8-d9e0-4f1a-91b2-3d4e5f6a7b23  RAC1\n",
    "\n",
);

/// `status-4.1-2dc-DN-keyspace.txt`, byte for byte.
const STATUS_4_1_2DC_DN_KEYSPACE: &str = concat!(
    "Datacenter: dc1\n",
    "===============\n",
    "Status=Up/Down\n",
    "|/ State=Normal/Leaving/Joining/Moving\n",
    "--  Address    Load      Tokens  Owns (effective)  Host ID                               Rack \n",
    "UN  10.0.1.11  1.21 GiB  16      100.0%            3f9a2c71-8e4b-4f0d-a1c6-0b5e7d2f9a01  rack1\n",
    "UN  10.0.1.12  1.19 GiB  16      100.0%            7b1d4e95-2a3c-4b8f-9e70-6c1a8f3d2b02  rack2\n",
    "UN  10.0.1.13  1.24 GiB  16      100.0%            e4c8a1f2-9d6b-4a3e-8f57-1b2c3d4e5f03  rack3\n",
    "\n",
    "Datacenter: dc2\n",
    "===============\n",
    "Status=Up/Down\n",
    "|/ State=Normal/Leaving/Joining/Moving\n",
    "--  Address    Load      Tokens  Owns (effective)  Host ID                               Rack \n",
    "DN  10.0.2.22  1.2 GiB   16      100.0%            5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a805  rack2\n",
    "UN  10.0.2.23  1.22 GiB  16      100.0%            b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d06  rack3\n",
    "UN  10.0.2.21  1.18 GiB  16      100.0%            0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c04  rack1\n",
    "\n",
);

/// `status-5.0-1dc-3nodes-UN.txt`, byte for byte.
const STATUS_5_0_1DC_3NODES_UN: &str = concat!(
    "Datacenter: datacenter1\n",
    "=======================\n",
    "Status=Up/Down\n",
    "|/ State=Normal/Leaving/Joining/Moving\n",
    "--  Address    Load        Tokens  Owns (effective)  Host ID                               Rack \n",
    "UN  127.0.0.2  98.47 KiB   16      66.7%             5d0e8b3a-1c2f-4e6b-8a9d-7f3c4b2e1a22  rack1\n",
    "UN  127.0.0.1  104.33 KiB  16      66.7%             c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1\n",
    "UN  127.0.0.3  110.21 KiB  16      66.7%             9f7c3e2d-4b1a-4d5e-b6c7-2a8e9f0d3b33  rack1\n",
    "\n",
);

/// `status-5.0-ipv6-UJ.txt`, byte for byte.
const STATUS_5_0_IPV6_UJ: &str = concat!(
    "Datacenter: datacenter1\n",
    "=======================\n",
    "Status=Up/Down\n",
    "|/ State=Normal/Leaving/Joining/Moving\n",
    "--  Address                Load        Tokens  Owns (effective)  Host ID                               Rack \n",
    "UN  2001:db8:0:0:0:0:0:13  239.8 MiB   16      66.7%             3f4a5b6c-7d8e-4f90-a1b2-c3d4e5f6a713  rack1\n",
    "UN  2001:db8:0:0:0:0:0:11  243.91 MiB  16      66.7%             1d2e3f4a-5b6c-4d7e-8f90-a1b2c3d4e511  rack1\n",
    "UN  2001:db8:0:0:0:0:0:12  251.05 MiB  16      66.6%             2e3f4a5b-6c7d-4e8f-90a1-b2c3d4e5f612  rack1\n",
    "UJ  2001:db8:0:0:0:0:0:14  12.4 MiB    16      ?                 4a5b6c7d-8e9f-40a1-b2c3-d4e5f6a7b814  rack1\n",
    "\n",
);

/// `status-5.0-owns-unknown-note-DN.txt`, byte for byte.
const STATUS_5_0_OWNS_UNKNOWN_NOTE_DN: &str = concat!(
    "Datacenter: datacenter1\n",
    "=======================\n",
    "Status=Up/Down\n",
    "|/ State=Normal/Leaving/Joining/Moving\n",
    "--  Address    Load      Tokens  Owns  Host ID                               Rack \n",
    "DN  127.0.0.2  5.61 MiB  16      ?     5d0e8b3a-1c2f-4e6b-8a9d-7f3c4b2e1a22  rack1\n",
    "UN  127.0.0.1  5.87 MiB  16      ?     c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1\n",
    "UN  127.0.0.3  6.02 MiB  16      ?     9f7c3e2d-4b1a-4d5e-b6c7-2a8e9f0d3b33  rack1\n",
    "\n",
    "Note: Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless\n",
);

/// `status-5.0-single-node-single-token.txt`, byte for byte.
const STATUS_5_0_SINGLE_NODE_SINGLE_TOKEN: &str = concat!(
    "Datacenter: datacenter1\n",
    "=======================\n",
    "Status=Up/Down\n",
    "|/ State=Normal/Leaving/Joining/Moving\n",
    "--  Address    Load       Owns (effective)  Host ID                               Token                 Rack \n",
    "UN  127.0.0.1  81.14 KiB  100.0%            c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  -9223372036854775808  rack1\n",
    "\n",
);

/// 4.0+ `nodetool status -pp` on IPv4 (TableBuilder padding), rendered by hand.
const PP_IPV4: &str = concat!(
    "Datacenter: datacenter1\n",
    "=======================\n",
    "Status=Up/Down\n",
    "|/ State=Normal/Leaving/Joining/Moving\n",
    "--  Address         Load        Tokens  Owns (effective)  Host ID                               Rack \n",
    "UN  127.0.0.2:7000  98.47 KiB   16      66.7%             5d0e8b3a-1c2f-4e6b-8a9d-7f3c4b2e1a22  rack1\n",
    "UN  127.0.0.1:7000  104.33 KiB  16      66.7%             c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1\n",
    "UN  127.0.0.3:7000  110.21 KiB  16      66.7%             9f7c3e2d-4b1a-4d5e-b6c7-2a8e9f0d3b33  rack1\n",
    "\n",
);

/// 4.0+ `nodetool status -pp` on IPv6 (`[addr]:port`), one `DN` with an unknown load.
const PP_IPV6: &str = concat!(
    "Datacenter: datacenter1\n",
    "=======================\n",
    "Status=Up/Down\n",
    "|/ State=Normal/Leaving/Joining/Moving\n",
    "--  Address                       Load        Tokens  Owns (effective)  Host ID                               Rack \n",
    "UN  [2001:db8:0:0:0:0:0:11]:7000  243.91 MiB  16      100.0%            1d2e3f4a-5b6c-4d7e-8f90-a1b2c3d4e511  rack1\n",
    "DN  [2001:db8:0:0:0:0:0:12]:7000  ?           16      100.0%            2e3f4a5b-6c7d-4e8f-90a1-b2c3d4e5f612  rack1\n",
    "\n",
);

/// 4.0+ output from a JVM with a German default locale (decimal comma), one `UL` node.
const LOCALE_DE: &str = concat!(
    "Datacenter: datacenter1\n",
    "=======================\n",
    "Status=Up/Down\n",
    "|/ State=Normal/Leaving/Joining/Moving\n",
    "--  Address   Load       Tokens  Owns (effective)  Host ID                               Rack \n",
    "UN  10.0.0.2  1,21 GiB   16      66,7%             5d0e8b3a-1c2f-4e6b-8a9d-7f3c4b2e1a22  rack1\n",
    "DN  10.0.0.1  1,2 GiB    16      66,6%             c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1\n",
    "UL  10.0.0.3  998,5 MiB  16      66,7%             9f7c3e2d-4b1a-4d5e-b6c7-2a8e9f0d3b33  rack1\n",
    "\n",
);

/// Builds an expected vnode-layout row (`Tokens` column, no `Token`).
#[allow(clippy::too_many_arguments)]
fn vnode(
    datacenter: &str,
    code: &str,
    address: &str,
    port: Option<u16>,
    load: Option<&str>,
    tokens: u32,
    owns: Option<&str>,
    host_id: &str,
    rack: &str,
) -> StatusNode {
    StatusNode {
        datacenter: datacenter.to_owned(),
        status: code[..1].to_owned(),
        state: code[1..].to_owned(),
        address: address.to_owned(),
        port,
        load: load.map(str::to_owned),
        tokens: Some(tokens),
        owns: owns.map(str::to_owned),
        host_id: host_id.to_owned(),
        token: None,
        rack: rack.to_owned(),
    }
}

fn parse(text: &str) -> Vec<StatusNode> {
    match parse_status(text) {
        Ok(nodes) => nodes,
        Err(err) => panic!("fixture must parse, got: {err}"),
    }
}

#[test]
#[rustfmt::skip]
fn status_5_0_one_dc_three_nodes_all_up() {
    let dc = "datacenter1";
    assert_eq!(
        parse(STATUS_5_0_1DC_3NODES_UN),
        vec![
            vnode(dc, "UN", "127.0.0.2", None, Some("98.47 KiB"), 16, Some("66.7%"), "5d0e8b3a-1c2f-4e6b-8a9d-7f3c4b2e1a22", "rack1"),
            vnode(dc, "UN", "127.0.0.1", None, Some("104.33 KiB"), 16, Some("66.7%"), "c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11", "rack1"),
            vnode(dc, "UN", "127.0.0.3", None, Some("110.21 KiB"), 16, Some("66.7%"), "9f7c3e2d-4b1a-4d5e-b6c7-2a8e9f0d3b33", "rack1"),
        ]
    );
}

#[test]
#[rustfmt::skip]
fn status_4_1_two_dcs_with_blank_line_and_one_down() {
    let nodes = parse(STATUS_4_1_2DC_DN_KEYSPACE);
    assert_eq!(
        nodes,
        vec![
            vnode("dc1", "UN", "10.0.1.11", None, Some("1.21 GiB"), 16, Some("100.0%"), "3f9a2c71-8e4b-4f0d-a1c6-0b5e7d2f9a01", "rack1"),
            vnode("dc1", "UN", "10.0.1.12", None, Some("1.19 GiB"), 16, Some("100.0%"), "7b1d4e95-2a3c-4b8f-9e70-6c1a8f3d2b02", "rack2"),
            vnode("dc1", "UN", "10.0.1.13", None, Some("1.24 GiB"), 16, Some("100.0%"), "e4c8a1f2-9d6b-4a3e-8f57-1b2c3d4e5f03", "rack3"),
            vnode("dc2", "DN", "10.0.2.22", None, Some("1.2 GiB"), 16, Some("100.0%"), "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a805", "rack2"),
            vnode("dc2", "UN", "10.0.2.23", None, Some("1.22 GiB"), 16, Some("100.0%"), "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d06", "rack3"),
            vnode("dc2", "UN", "10.0.2.21", None, Some("1.18 GiB"), 16, Some("100.0%"), "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c04", "rack1"),
        ]
    );
    let up: Vec<bool> = nodes.iter().map(StatusNode::is_up_normal).collect();
    assert_eq!(up, [true, true, true, false, true, true]);
}

#[test]
#[rustfmt::skip]
fn status_5_0_ipv6_uncompressed_with_joining_node() {
    let dc = "datacenter1";
    let nodes = parse(STATUS_5_0_IPV6_UJ);
    assert_eq!(
        nodes,
        vec![
            vnode(dc, "UN", "2001:db8:0:0:0:0:0:13", None, Some("239.8 MiB"), 16, Some("66.7%"), "3f4a5b6c-7d8e-4f90-a1b2-c3d4e5f6a713", "rack1"),
            vnode(dc, "UN", "2001:db8:0:0:0:0:0:11", None, Some("243.91 MiB"), 16, Some("66.7%"), "1d2e3f4a-5b6c-4d7e-8f90-a1b2c3d4e511", "rack1"),
            vnode(dc, "UN", "2001:db8:0:0:0:0:0:12", None, Some("251.05 MiB"), 16, Some("66.6%"), "2e3f4a5b-6c7d-4e8f-90a1-b2c3d4e5f612", "rack1"),
            vnode(dc, "UJ", "2001:db8:0:0:0:0:0:14", None, Some("12.4 MiB"), 16, None, "4a5b6c7d-8e9f-40a1-b2c3-d4e5f6a7b814", "rack1"),
        ]
    );
    assert!(
        !nodes[3].is_up_normal(),
        "a joining node is up but not normal"
    );
}

#[test]
#[rustfmt::skip]
fn status_5_0_plain_owns_header_with_note() {
    let dc = "datacenter1";
    assert_eq!(
        parse(STATUS_5_0_OWNS_UNKNOWN_NOTE_DN),
        vec![
            vnode(dc, "DN", "127.0.0.2", None, Some("5.61 MiB"), 16, None, "5d0e8b3a-1c2f-4e6b-8a9d-7f3c4b2e1a22", "rack1"),
            vnode(dc, "UN", "127.0.0.1", None, Some("5.87 MiB"), 16, None, "c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11", "rack1"),
            vnode(dc, "UN", "127.0.0.3", None, Some("6.02 MiB"), 16, None, "9f7c3e2d-4b1a-4d5e-b6c7-2a8e9f0d3b33", "rack1"),
        ]
    );
}

#[test]
#[rustfmt::skip]
fn status_3_11_overflowing_load_and_no_blank_line_between_dcs() {
    assert_eq!(
        parse(STATUS_3_11_2DC_VNODES256_DN),
        vec![
            vnode("DC1", "UN", "10.0.1.11", None, Some("412.36 MiB"), 256, Some("100.0%"), "a0b1c2d3-e4f5-4a6b-8c7d-8e9f0a1b2c11", "RAC1"),
            vnode("DC1", "UN", "10.0.1.12", None, Some("405.9 MiB"), 256, Some("100.0%"), "b1c2d3e4-f5a6-4b7c-9d8e-9f0a1b2c3d12", "RAC1"),
            vnode("DC1", "DN", "10.0.1.13", None, Some("398.12 MiB"), 256, Some("100.0%"), "c2d3e4f5-a6b7-4c8d-ae9f-0a1b2c3d4e13", "RAC1"),
            vnode("DC2", "UN", "10.0.2.21", None, Some("420.01 MiB"), 256, Some("100.0%"), "d3e4f5a6-b7c8-4d9e-bf0a-1b2c3d4e5f21", "RAC1"),
            vnode("DC2", "UN", "10.0.2.22", None, Some("401.77 MiB"), 256, Some("100.0%"), "e4f5a6b7-c8d9-4e0f-80a1-2c3d4e5f6a22", "RAC1"),
            vnode("DC2", "UN", "10.0.2.23", None, Some("409.5 MiB"), 256, Some("100.0%"), "f5a6b7c8-d9e0-4f1a-91b2-3d4e5f6a7b23", "RAC1"),
        ]
    );
}

#[test]
#[rustfmt::skip]
fn status_5_0_single_token_layout() {
    assert_eq!(
        parse(STATUS_5_0_SINGLE_NODE_SINGLE_TOKEN),
        vec![StatusNode {
            datacenter: "datacenter1".into(),
            status: "U".into(),
            state: "N".into(),
            address: "127.0.0.1".into(),
            port: None,
            load: Some("81.14 KiB".into()),
            tokens: None,
            owns: Some("100.0%".into()),
            host_id: "c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11".into(),
            token: Some("-9223372036854775808".into()),
            rack: "rack1".into(),
        }]
    );
}

#[test]
#[rustfmt::skip]
fn status_print_port_ipv4_strips_the_port() {
    let dc = "datacenter1";
    assert_eq!(
        parse(PP_IPV4),
        vec![
            vnode(dc, "UN", "127.0.0.2", Some(7000), Some("98.47 KiB"), 16, Some("66.7%"), "5d0e8b3a-1c2f-4e6b-8a9d-7f3c4b2e1a22", "rack1"),
            vnode(dc, "UN", "127.0.0.1", Some(7000), Some("104.33 KiB"), 16, Some("66.7%"), "c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11", "rack1"),
            vnode(dc, "UN", "127.0.0.3", Some(7000), Some("110.21 KiB"), 16, Some("66.7%"), "9f7c3e2d-4b1a-4d5e-b6c7-2a8e9f0d3b33", "rack1"),
        ]
    );
}

#[test]
#[rustfmt::skip]
fn status_print_port_ipv6_strips_brackets_and_port() {
    let dc = "datacenter1";
    assert_eq!(
        parse(PP_IPV6),
        vec![
            vnode(dc, "UN", "2001:db8:0:0:0:0:0:11", Some(7000), Some("243.91 MiB"), 16, Some("100.0%"), "1d2e3f4a-5b6c-4d7e-8f90-a1b2c3d4e511", "rack1"),
            vnode(dc, "DN", "2001:db8:0:0:0:0:0:12", Some(7000), None, 16, Some("100.0%"), "2e3f4a5b-6c7d-4e8f-90a1-b2c3d4e5f612", "rack1"),
        ]
    );
}

#[test]
#[rustfmt::skip]
fn status_non_english_locale_numbers_are_kept_as_printed() {
    let dc = "datacenter1";
    let nodes = parse(LOCALE_DE);
    assert_eq!(
        nodes,
        vec![
            vnode(dc, "UN", "10.0.0.2", None, Some("1,21 GiB"), 16, Some("66,7%"), "5d0e8b3a-1c2f-4e6b-8a9d-7f3c4b2e1a22", "rack1"),
            vnode(dc, "DN", "10.0.0.1", None, Some("1,2 GiB"), 16, Some("66,6%"), "c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11", "rack1"),
            vnode(dc, "UL", "10.0.0.3", None, Some("998,5 MiB"), 16, Some("66,7%"), "9f7c3e2d-4b1a-4d5e-b6c7-2a8e9f0d3b33", "rack1"),
        ]
    );
    let up: Vec<bool> = nodes.iter().map(StatusNode::is_up_normal).collect();
    assert_eq!(up, [true, false, false]);
}

#[test]
#[rustfmt::skip]
fn status_crlf_line_endings_parse_the_same() {
    let crlf = STATUS_5_0_1DC_3NODES_UN.replace('\n', "\r\n");
    assert_eq!(parse(&crlf), parse(STATUS_5_0_1DC_3NODES_UN));
}

#[test]
#[rustfmt::skip]
fn status_nodes_round_trip_through_json() {
    let nodes = parse(STATUS_5_0_SINGLE_NODE_SINGLE_TOKEN);
    let json = serde_json::to_string(&nodes).expect("serialize");
    let back: Vec<StatusNode> = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, nodes);
}

#[test]
fn embedded_fixtures_match_shared_copies() {
    let dir = std::path::Path::new("/work/shared/fixtures/nodetool-status");
    if !dir.is_dir() {
        eprintln!("skipped: {} is not present on this machine", dir.display());
        return;
    }
    for (file, embedded) in [
        ("status-3.11-2dc-vnodes256-DN.txt", STATUS_3_11_2DC_VNODES256_DN),
        ("status-4.1-2dc-DN-keyspace.txt", STATUS_4_1_2DC_DN_KEYSPACE),
        ("status-5.0-1dc-3nodes-UN.txt", STATUS_5_0_1DC_3NODES_UN),
        ("status-5.0-ipv6-UJ.txt", STATUS_5_0_IPV6_UJ),
        ("status-5.0-owns-unknown-note-DN.txt", STATUS_5_0_OWNS_UNKNOWN_NOTE_DN),
        ("status-5.0-single-node-single-token.txt", STATUS_5_0_SINGLE_NODE_SINGLE_TOKEN),
    ] {
        let shared = std::fs::read_to_string(dir.join(file)).expect("read shared fixture");
        assert_eq!(shared, embedded, "{file} differs from its embedded copy");
    }
}
