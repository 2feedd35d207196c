from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from server.logs import JSONFormatter
from server.settings import SettingsError, build_settings


def test_flags_win_over_environment_over_defaults(tmp_path: Path) -> None:
    environ = {"PLENARIA_PORT": "9000", "PLENARIA_HOST": "0.0.0.0", "PLENARIA_DATA": str(tmp_path)}
    settings = build_settings({"port": 9100}, environ)
    assert settings.port == 9100
    assert settings.host == "0.0.0.0"
    assert settings.data_dir == tmp_path
    assert settings.store == f"sqlite:///{(tmp_path / 'plenaria.db').resolve()}"
    assert settings.base_url == "http://localhost:9100"


def test_secret_key_is_made_once_and_kept(tmp_path: Path) -> None:
    first = build_settings({"data": str(tmp_path)}, {})
    second = build_settings({"data": str(tmp_path)}, {})
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"port": "http"}, "not a number"),
        ({"port": "70000"}, "out of range"),
        ({"log_format": "xml"}, "json or text"),
        ({"public_url": "ftp://x"}, "http"),
        ({"secret_key": "short"}, "32 characters"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, flags: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        build_settings({"data": str(tmp_path), **flags}, {})


def test_https_public_url_makes_cookies_secure(tmp_path: Path) -> None:
    settings = build_settings(
        {"data": str(tmp_path), "public_url": "https://live.example.org/"}, {}
    )
    assert settings.secure_cookies
    assert settings.base_url == "https://live.example.org"


def test_json_logs_carry_extra_fields() -> None:
    record = logging.LogRecord("plenaria", logging.INFO, __file__, 1, "store open", None, None)
    record.store = "sqlite:///x"
    entry = json.loads(JSONFormatter().format(record))
    assert entry["message"] == "store open"
    assert entry["level"] == "info"
    assert entry["store"] == "sqlite:///x"
