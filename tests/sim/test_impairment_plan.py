"""Assigning impairment profiles to peers: --impair with a share, or a profile file per room / routine."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from peerperf.errors import ConfigError
from peerperf.settings import resolve
from peerperf.sim.host_config import PeerSpec
from peerperf.sim.impairment_plan import ImpairmentSettings, describe, impairment_plan
from tests.conftest import REPO_ROOT


def specs(count: int, rooms: int = 2) -> list[PeerSpec]:
    return [
        PeerSpec(i, f"peer{i}", "idle" if i % 4 == 0 else "default", "blue", f"room-{i % rooms + 1}", (0.0, 0.0, 0.0))
        for i in range(count)
    ]


def names(planned: list[PeerSpec]) -> list[str]:
    return [s.impairment.profile.name if s.impairment else "" for s in planned]


def test_no_impairment_options_means_no_plan() -> None:
    assert impairment_plan(ImpairmentSettings()) is None


def test_a_share_of_peers_gets_the_inline_profile_the_same_ones_for_the_same_seed() -> None:
    plan = impairment_plan(ImpairmentSettings(impair="delay=40ms", impair_peers="25%", impair_seed=3))
    assert plan is not None
    first = plan.assign(specs(40))
    assert names(first).count("delay=40ms") == 10 and names(first).count("") == 30
    assert names(plan.assign(specs(40))) == names(first)
    other_seed = impairment_plan(ImpairmentSettings(impair="delay=40ms", impair_peers="25%", impair_seed=4))
    assert other_seed is not None and names(other_seed.assign(specs(40))) != names(first)
    impaired = [s.impairment for s in first if s.impairment]
    assert len({i.seed for i in impaired}) == 10 and not any(i.signaling for i in impaired)
    assert describe(first) == "delay=40ms: 10 peers, none: 30 peers"


def test_the_environment_sets_impairment_like_any_setting() -> None:
    settings = resolve(ImpairmentSettings, environ={"PEERPERF_IMPAIR": "loss=1%", "PEERPERF_IMPAIR_SIGNALING": "yes"})
    plan = impairment_plan(settings)
    assert plan is not None and plan.signaling
    assert all(s.impairment and s.impairment.signaling for s in plan.assign(specs(3)))


def test_a_profile_file_assigns_by_share_room_and_routine(tmp_path: Path) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(
        "profiles:\n"
        "  mobile: loss=2%,delay=80ms,jitter=20ms,rate=2mbit\n"
        "  wifi: loss=0.5%,delay=15ms,jitter=5ms\n"
        "  fibre: delay=2ms\n"
        "assign:\n"
        "  - {profile: fibre, routines: [idle]}\n"
        "  - {profile: mobile, share: 50%, rooms: [room-1]}\n"
        "  - {profile: wifi, rooms: [room-2]}\n"
    )
    plan = impairment_plan(ImpairmentSettings(impair_file=str(path)))
    assert plan is not None
    planned = plan.assign(specs(16))
    by_peer = dict(zip([s.peer_id for s in planned], names(planned), strict=True))
    assert all(by_peer[s.peer_id] == "fibre" for s in planned if s.routine == "idle")
    room1 = [by_peer[s.peer_id] for s in planned if s.room == "room-1" and s.routine != "idle"]
    # 50 % of room-1's 8 peers is 4; its idle half is taken already, so the 4 others are mobile.
    assert room1 == ["mobile"] * 4
    assert all(by_peer[s.peer_id] == "wifi" for s in planned if s.room == "room-2" and s.routine != "idle")
    assert planned[1].impairment is not None and planned[1].impairment.profile.outbound is not None


def test_json_works_and_inline_names_refer_to_file_profiles(tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps({"profiles": {"mobile": "loss=2%,delay=80ms"}}))
    plan = impairment_plan(ImpairmentSettings(impair="mobile", impair_peers="50%", impair_file=str(path)))
    assert plan is not None
    assert sorted(names(plan.assign(specs(4)))) == ["", "", "mobile", "mobile"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[1, 2]", "non-empty 'profiles' mapping"),
        ("profiles: {a: delay=1ms}\nextra: 1\n", "unknown keys ['extra']"),
        ("profiles: {a: lose=1%}\n", "profile 'a': impairment profile 'lose=1%': unknown key 'lose'"),
        ("profiles: {a: 3}\n", "profile 'a' must be text"),
        ("profiles: {a: delay=1ms}\nassign: {profile: a}\n", "'assign' must be a list"),
        ("profiles: {a: delay=1ms}\nassign: [{profile: b}]\n", "assign rule 1: no profile named 'b'"),
        ("profiles: {a: delay=1ms}\nassign: [{profile: a, share: 150%}]\n", "at most 100%"),
        ("profiles: {a: delay=1ms}\nassign: [{profile: a, room: [x]}]\n", "unknown keys ['room']"),
        ("profiles: {a: delay=1ms}\nassign: [{profile: a, rooms: x}]\n", "rooms must be a list"),
        ("profiles: [unclosed\n", "not YAML or JSON"),
    ],
)
def test_bad_profile_files_are_refused_naming_the_problem(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match="--impair-file") as caught:
        impairment_plan(ImpairmentSettings(impair_file=str(path)))
    assert problem in str(caught.value)


def test_missing_files_and_bad_shares_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No such file"):
        impairment_plan(ImpairmentSettings(impair_file=str(tmp_path / "absent.yaml")))
    with pytest.raises(ConfigError, match="--impair-peers=half"):
        impairment_plan(ImpairmentSettings(impair="delay=1ms", impair_peers="half"))
    with pytest.raises(ConfigError, match="unknown key 'lag'"):
        impairment_plan(ImpairmentSettings(impair="lag=1ms"))


def test_the_docs_profile_file_example_is_valid(tmp_path: Path) -> None:
    section = (REPO_ROOT / "docs" / "usage" / "impairment.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert example is not None
    path = tmp_path / "profiles.yaml"
    path.write_text(textwrap.dedent(example.group(1)))
    plan = impairment_plan(ImpairmentSettings(impair_file=str(path)))
    assert plan is not None and set(plan.profiles) == {"mobile", "wifi"}
    assert set(names(plan.assign(specs(10)))) == {"mobile", "wifi", ""}
