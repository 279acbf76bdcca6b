//! `deploy/hktia-portal.service`: systemd accepts it, and waits longer
//! than the server's own shutdown deadline before it kills.

use std::process::Command;

const UNIT: &str = include_str!("../../deploy/hktia-portal.service");

#[test]
fn unit_passes_systemd_verify() {
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let binary = crate::support::process::BINARY;
    let unit =
        UNIT.replace("ExecStart=/usr/local/bin/hktia-portal", &format!("ExecStart={binary}"));
    let path = dir.path().join("hktia-portal.service");
    std::fs::write(&path, unit).unwrap();

    let output = Command::new("systemd-analyze").arg("verify").arg(&path).output().unwrap();

    assert!(output.status.success(), "systemd-analyze verify failed: {output:?}");
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn unit_outwaits_shutdown_deadline() {
    let timeout: u64 = UNIT
        .lines()
        .find_map(|line| line.strip_prefix("TimeoutStopSec="))
        .expect("the unit sets TimeoutStopSec")
        .parse()
        .unwrap();

    assert!(timeout > hktia_portal::server::SHUTDOWN_DEADLINE.as_secs());
    assert!(UNIT.contains("\nKillSignal=SIGTERM\n"));
}
