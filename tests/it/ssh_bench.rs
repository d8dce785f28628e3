//! Benchmark, not a test: per-command latency of `true` over the shared master versus a fresh
//! `ssh` process per command, medians of 50, against the sshd testbed.
//!
//! Run: `RINGMASTER_TESTBED=$(bin/testbed up) cargo test --test it ssh_bench:: -- --ignored --nocapture`

use std::time::{Duration, Instant};

use crate::support::ssh::{target, testbed};
use ringmaster::transport::ssh::Ssh;

const N: usize = 50;

/// Returns (median, p90) of `samples`.
fn summary(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[samples.len() * 9 / 10])
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::test]
#[ignore = "benchmark; run with --ignored --nocapture"]
async fn bench_master_vs_fresh_ssh() {
    let Some((cfg, _turn)) = testbed("bench_master_vs_fresh_ssh") else { return };

    let mut connects = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let ssh = Ssh::connect(&target(&cfg, "node1")).await.expect("connect");
        connects.push(started.elapsed());
        drop(ssh);
    }

    let ssh = Ssh::connect(&target(&cfg, "node1")).await.expect("connect");
    let timeout = Duration::from_secs(10);
    let mut sudo_target = target(&cfg, "node1");
    sudo_target.sudo = true;
    let sudo = Ssh::connect(&sudo_target).await.expect("connect");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("f").to_string_lossy().into_owned();
    ssh.write_file_atomic(&file, &[b'x'; 4096], 0o600).await.expect("seed");

    let (mut master, mut with_sudo, mut read, mut write, mut fresh) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..N {
        let t = Instant::now();
        assert!(ssh.run("true", None, timeout).await.expect("run").success());
        master.push(t.elapsed());

        let t = Instant::now();
        assert!(sudo.run("true", None, timeout).await.expect("run").success());
        with_sudo.push(t.elapsed());

        let t = Instant::now();
        assert_eq!(ssh.read_file(&file, 0).await.expect("read").len(), 4096);
        read.push(t.elapsed());

        let t = Instant::now();
        ssh.write_file_atomic(&file, &[b'y'; 4096], 0o600).await.expect("write");
        write.push(t.elapsed());

        let t = Instant::now();
        let status = std::process::Command::new("ssh").arg("-F").arg(&cfg).args(["node1", "true"]).status().expect("ssh");
        assert!(status.success());
        fresh.push(t.elapsed());
    }

    println!("ssh transport latency on the testbed (loopback), medians of {N} (p90):");
    for (name, samples) in [
        ("connect (master start, 5 samples)", connects),
        ("run `true` over the master", master),
        ("run `true` over the master with sudo -n", with_sudo),
        ("read_file 4 KiB", read),
        ("write_file_atomic 4 KiB (fsync, rename)", write),
        ("fresh `ssh node1 true` process", fresh),
    ] {
        let (median, p90) = summary(samples);
        println!("  {name:<45} {:>10} ({})", ms(median), ms(p90));
    }
}
