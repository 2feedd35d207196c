from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from server.cli import build_parser, settings_from
from server.logs import JSONFormatter
from server.settings import SettingsError, build_settings, cores


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
        ({"media_workers": "many"}, "whole number"),
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


def test_serve_starts_one_media_worker_per_core_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLENARIA_MEDIA_WORKERS", raising=False)
    data = ["--data", str(tmp_path)]
    assert settings_from(build_parser().parse_args(["serve", *data])).media_workers == cores()
    told = build_parser().parse_args(["serve", *data, "--media-workers", "0"])
    assert settings_from(told).media_workers == 0
    monkeypatch.setenv("PLENARIA_MEDIA_WORKERS", "3")
    assert settings_from(build_parser().parse_args(["serve", *data])).media_workers == 3
    # a worker never starts workers of its own; the demo carries its panel itself
    worker = build_parser().parse_args(["serve", *data, "--media-node"])
    assert settings_from(worker).media_workers == 0
    monkeypatch.delenv("PLENARIA_MEDIA_WORKERS")
    assert settings_from(build_parser().parse_args(["demo", *data])).media_workers == 0
