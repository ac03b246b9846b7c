"""Settings declared once: flags, env vars and defaults agree."""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
from dataclasses import dataclass

import pytest

from peerperf.config import RUN_MANAGED_PEER_SETTINGS
from peerperf.errors import ConfigError
from peerperf.peer.settings import PeerSettings
from peerperf.run import parse as parse_run
from peerperf.settings import add_arguments, resolve, setting


@dataclass(frozen=True)
class Example:
    port: int = setting(9000, "port", env="PORT")
    ratio: float = setting(0.5, "ratio")
    names: tuple[str, ...] = setting(("a", "b"), "names")
    verbose: bool = setting(False, "talk more")
    no_auth: bool = setting(False, "skip auth", env="NO_AUTH")
    label: str | None = setting(None, "optional label")


def parse(argv: list[str], environ: dict[str, str] | None = None) -> Example:
    parser = argparse.ArgumentParser()
    add_arguments(parser, Example)
    return resolve(Example, parser.parse_args(argv), environ or {})


def test_defaults() -> None:
    assert parse([]) == Example()


def test_env_then_flag_precedence() -> None:
    env = {"PORT": "1", "PEERPERF_RATIO": "0.25", "PEERPERF_NAMES": "x, y", "NO_AUTH": "true"}
    assert parse([], env) == Example(1, 0.25, ("x", "y"), False, True)
    assert parse(["--port", "2", "--verbose", "--label", "z"], env).port == 2
    assert parse(["--no-auth"]).no_auth is True
    assert parse(["--no-verbose"], {"PEERPERF_VERBOSE": "1"}).verbose is False


@pytest.mark.parametrize(
    "env,message", [({"PORT": "x"}, "PORT: expected int"), ({"NO_AUTH": "maybe"}, "NO_AUTH: expected bool")]
)
def test_bad_values_name_their_source(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse([], env)


def test_help_names_env_and_default(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser, Example)
    parser.print_help()
    out = " ".join(capsys.readouterr().out.split())
    assert "env PORT; default 9000" in out and "env PEERPERF_NAMES; default a,b" in out


def test_every_peer_setting_is_a_run_flag_and_reaches_the_peers() -> None:
    config, _, _ = parse_run(["--max-connections", "4", "--relay-suspension-interval", "0.75", "--ping-interval", ""])
    assert config.peer.max_connections == 4
    assert config.peer.relay_suspension_interval == 0.75
    assert config.peer.ping_interval is None
    help_text = subprocess.run(
        [sys.executable, "-m", "peerperf.run", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for f in dataclasses.fields(PeerSettings):
        if f.name not in RUN_MANAGED_PEER_SETTINGS:
            assert "--" + f.name.replace("_", "-") in help_text, f.name
    # The layer capacity is the original's, as the lighthouse itself declares it.
    capacity_help = " ".join(help_text.split("\n  --max-per-layer MAX_PER_LAYER", 1)[1].split("--", 1)[0].split())
    assert "layer of the embedded lighthouse holds" in capacity_help and "default 50]" in capacity_help


def test_off_unsets_an_optional_setting() -> None:
    assert parse(["--label", "off"]).label is None
    assert parse([], {"PEERPERF_LABEL": "none"}).label is None
    assert parse(["--label", "x"]).label == "x"


def test_runs_ping_by_default_as_the_original_client() -> None:
    assert parse_run([])[0].peer.ping_interval == 0.009  # its pingInterval=9 ms
    assert parse_run(["--ping-interval", "off"])[0].peer.ping_interval is None


def test_one_environment_configures_both_services() -> None:
    from peerperf.lighthouse import LighthouseSettings
    from peerperf.results import ResultsSettings

    env = {"LIGHTHOUSE_PORT": "9100", "RESULTS_PORT": "9200", "LIGHTHOUSE_HOST": "::1", "NO_AUTH": "true"}
    lighthouse, results = resolve(LighthouseSettings, environ=env), resolve(ResultsSettings, environ=env)
    assert (lighthouse.host, lighthouse.port, results.host, results.port) == ("::1", 9100, "127.0.0.1", 9200)


def test_the_originals_port_is_still_read_when_the_prefixed_one_is_unset() -> None:
    from peerperf.lighthouse import LighthouseSettings
    from peerperf.results import ResultsSettings

    assert resolve(LighthouseSettings, environ={"PORT": "9001", "NO_AUTH": "true"}).port == 9001
    assert resolve(ResultsSettings, environ={"PORT": "9905", "RESULTS_PORT": "9906"}).port == 9906
    parser = argparse.ArgumentParser()
    add_arguments(parser, ResultsSettings)
    assert "[env RESULTS_PORT or PORT; default 9904]" in " ".join(parser.format_help().split())


def test_the_results_location_is_declared_once_for_the_run_and_the_service() -> None:
    from peerperf.config import RunConfig
    from peerperf.results import ResultsSettings

    env = {"TEST_RESULTS_LOCATION": "/tmp/elsewhere"}
    assert resolve(RunConfig, environ=env).output == resolve(ResultsSettings, environ=env).location == "/tmp/elsewhere"
    assert RunConfig().output == ResultsSettings().location
    run_field = next(f for f in dataclasses.fields(RunConfig) if f.name == "output")
    assert run_field.metadata["help"] == "results folder of the embedded results service"
