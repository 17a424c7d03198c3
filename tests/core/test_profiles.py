"""harness.core.profiles: real profiles load; bad ones fail naming the file and key and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.core.errors import ConfigError
from harness.core.profiles import BUDGET_KEYS, TIMER_KEYS, available_profiles, load_profile

PROFILES = Path(__file__).resolve().parents[2] / "profiles"


def valid_profile() -> dict:
    return {
        "description": "test profile",
        "timers": {key: 1 for key in TIMER_KEYS},
        "budgets": {key: 30 for key in BUDGET_KEYS},
    }


def write(folder: Path, name: str, data: object) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_real_profiles_are_available() -> None:
    assert available_profiles(PROFILES) == ["maintenance-window", "nightly", "sre-review"]


@pytest.mark.parametrize("name", ["maintenance-window", "nightly", "sre-review"])
def test_real_profiles_load(name: str) -> None:
    profile = load_profile(name, PROFILES)
    assert profile.name == name
    assert profile.description
    assert set(profile.timers) == set(TIMER_KEYS)
    assert set(profile.budgets) == set(BUDGET_KEYS)
    assert all(isinstance(v, float) and v > 0 for v in [*profile.timers.values(), *profile.budgets.values()])


def test_nightly_values() -> None:
    nightly = load_profile("nightly", PROFILES)
    assert nightly.budget("failover_budget_s") == 30.0
    assert nightly.timer("scrape_interval_s") == 1.0
    assert nightly.timer("runner_heartbeat_timeout_s") == 5.0
    assert load_profile("sre-review", PROFILES).timer("scrape_interval_s") == 15.0


def test_valid_tmp_profile_converts_to_float(tmp_path: Path) -> None:
    data = valid_profile()
    data["timers"]["scrape_interval_s"] = 0.5
    write(tmp_path, "custom", data)
    profile = load_profile("custom", tmp_path)
    assert profile.timer("scrape_interval_s") == 0.5
    assert profile.budget("failover_budget_s") == 30.0
    assert isinstance(profile.budget("failover_budget_s"), float)
    assert profile.description == "test profile"


def test_missing_description_is_empty(tmp_path: Path) -> None:
    data = valid_profile()
    del data["description"]
    write(tmp_path, "p", data)
    assert load_profile("p", tmp_path).description == ""


@pytest.mark.parametrize(("section", "key"), [("timers", "lease_timeout_s"), ("budgets", "failover_budget_s")])
def test_missing_key(tmp_path: Path, section: str, key: str) -> None:
    data = valid_profile()
    del data[section][key]
    path = write(tmp_path, "p", data)
    with pytest.raises(ConfigError) as err:
        load_profile("p", tmp_path)
    message = str(err.value)
    assert str(path) in message
    assert f"'{section}'" in message
    assert key in message
    expected = TIMER_KEYS if section == "timers" else BUDGET_KEYS
    assert all(k in message for k in expected)


def test_unknown_key(tmp_path: Path) -> None:
    data = valid_profile()
    data["timers"]["scrape_intervl_s"] = 15
    path = write(tmp_path, "p", data)
    with pytest.raises(ConfigError) as err:
        load_profile("p", tmp_path)
    message = str(err.value)
    assert str(path) in message
    assert "scrape_intervl_s" in message
    assert "unknown" in message
    assert "scrape_interval_s" in message  # the expected key is listed


@pytest.mark.parametrize("value", ["fast", "15s", None, [1], True, -5, 0, -0.1])
def test_non_numeric_or_non_positive_value(tmp_path: Path, value: object) -> None:
    data = valid_profile()
    data["budgets"]["failover_budget_s"] = value
    path = write(tmp_path, "p", data)
    with pytest.raises(ConfigError) as err:
        load_profile("p", tmp_path)
    message = str(err.value)
    assert str(path) in message
    assert "budgets.failover_budget_s" in message
    assert "positive number of seconds" in message
    assert repr(value) in message


@pytest.mark.parametrize("section", ["timers", "budgets"])
def test_missing_section(tmp_path: Path, section: str) -> None:
    data = valid_profile()
    del data[section]
    path = write(tmp_path, "p", data)
    with pytest.raises(ConfigError) as err:
        load_profile("p", tmp_path)
    assert str(path) in str(err.value)
    assert f"missing mapping '{section}'" in str(err.value)


def test_unknown_profile_lists_available() -> None:
    with pytest.raises(ConfigError) as err:
        load_profile("weekly", PROFILES)
    message = str(err.value)
    assert "'weekly'" in message
    assert str(PROFILES / "weekly.yaml") in message
    assert "maintenance-window, nightly, sre-review" in message


def test_unknown_profile_in_empty_folder_says_none(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_profile("nightly", tmp_path)
    assert "Available: none" in str(err.value)


def test_invalid_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "p", "timers: {scrape_interval_s: [1\n")
    with pytest.raises(ConfigError) as err:
        load_profile("p", tmp_path)
    assert str(path) in str(err.value)
    assert "not valid YAML" in str(err.value)


@pytest.mark.parametrize("text", ["- timers\n- budgets\n", "just a sentence\n"], ids=["list", "scalar"])
def test_top_level_not_a_mapping_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "p", text)
    with pytest.raises(ConfigError) as err:
        load_profile("p", tmp_path)
    assert str(path) in str(err.value)
