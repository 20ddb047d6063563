"""Following a running locust: progress from its history CSV, the scenarios' notes from its log; its command line."""

from __future__ import annotations

from pathlib import Path

from bff.loadtest.locust_process import LOCUSTFILE, LocustOutput, LocustPlan, describe, locust_command

HISTORY_HEADER = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,99%,Total Request Count,Total Failure Count"
)


def test_progress_is_the_last_aggregated_row_of_the_history(tmp_path: Path) -> None:
    output = LocustOutput(tmp_path)
    assert output.progress() is None
    output.history.write_text(
        HISTORY_HEADER
        + "\n1,0,,Aggregated,0,0,N/A,N/A,0,0"
        + "\n2,10,POST,graphql Accounts,3.0,0,5,9,30,0"
        + "\n2,10,,Aggregated,12.5,0.1,7,120,250,1\n"
    )

    progress = output.progress()

    assert progress is not None
    assert (progress.users, progress.requests, progress.failures) == (10, 250, 1)
    assert (progress.rps, progress.p50_ms, progress.p99_ms) == (12.5, 7.0, 120.0)
    assert "users  10" in describe(progress, 30.2, 60)
    assert describe(None, 0, 60).endswith("starting users")


def test_notes_are_relayed_once_and_only_whole_lines(tmp_path: Path) -> None:
    output = LocustOutput(tmp_path)
    output.log_file.write_text(
        "[2026-11-27 08:23:20,866] vm/INFO/locust.main: Starting\n"
        "[2026-11-27 08:23:21,001] vm/WARNING/loadtests.note: partner: released to 20 %\n"
        "[2026-11-27 08:23:22,001] vm/WARNING/loadtests.note: half a li"
    )
    assert output.new_notes() == ["partner: released to 20 %"]
    with output.log_file.open("a") as log:
        log.write("ne\n")
    assert output.new_notes() == ["half a line"]
    assert output.new_notes() == []


def test_the_command_is_headless_bounded_and_names_the_user_classes(tmp_path: Path) -> None:
    plan = LocustPlan(users=8, spawn_rate=4.0, duration_s=10, user_classes=("CustomerAppUser", "PartnerUser"))

    command = locust_command(plan, tmp_path, "http://127.0.0.1:9")

    assert command[command.index("--locustfile") + 1] == str(LOCUSTFILE)
    assert "--headless" in command
    assert command[command.index("--run-time") + 1] == "10s"
    assert command[command.index("--users") + 1] == "8"
    assert command[command.index("--csv") + 1] == str(tmp_path / "locust")
    assert command[-2:] == ["CustomerAppUser", "PartnerUser"]
