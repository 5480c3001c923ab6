"""docker-compose.yml is validated here, since no Docker engine runs on these machines."""

from pathlib import Path
from typing import Any

import yaml

from core.settings import Settings

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def test_core_profile_has_the_production_services() -> None:
    services = compose()["services"]
    core = {name for name, svc in services.items() if "core" in svc.get("profiles", [])}
    assert {"postgres", "temporal", "temporal-ui", "migrate", "api", "worker"} <= core
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert "healthcheck" in services["postgres"]


def test_every_oo_variable_the_services_set_is_a_settings_field() -> None:
    fields = {f"OO_{name.upper()}" for name in Settings.model_fields}
    for svc in compose()["services"].values():
        for var in svc.get("environment", {}):
            if var.startswith("OO_"):
                assert var in fields, var
