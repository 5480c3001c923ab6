"""The production files (docker-compose.yml, Dockerfile, deploy/) are validated here.

No Docker engine runs on these machines, so the files are read, not run; what can be run
without one (the shell guards of the compose file) is run.
"""

import json
import re
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import SecretStr

from cli.main import app as cli_app
from cli.temporal_server import DEV_SERVER_DYNAMIC_CONFIG
from contracts.temporal import SEARCH_ATTRIBUTES
from core.settings import Settings
from worker import DRAIN

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DYNAMIC_CONFIG = ROOT / "deploy" / "temporal" / "dynamicconfig.yaml"
LITELLM_CONFIG = ROOT / "deploy" / "litellm" / "config.yaml"
README = ROOT / "README.md"

PROFILES = {
    "core": {
        "postgres",
        "temporal-schema",
        "temporal",
        "temporal-setup",
        "temporal-ui",
        "migrate",
        "api",
        "worker",
    },
    "mlops": {"mlflow"},
    "ai": {"ollama", "ollama-pull", "litellm"},
}
HEALTHY = "service_healthy"
DONE = "service_completed_successfully"
APP_DEPENDS = {"postgres": HEALTHY, "migrate": DONE, "temporal": HEALTHY, "temporal-setup": DONE}
DEPENDS = {
    "temporal-schema": {"postgres": HEALTHY},
    "temporal": {"postgres": HEALTHY, "temporal-schema": DONE},
    "temporal-setup": {"temporal": HEALTHY},
    "temporal-ui": {"temporal": HEALTHY},
    "migrate": {"postgres": HEALTHY},
    "api": APP_DEPENDS,
    "worker": APP_DEPENDS,
    "ollama-pull": {"ollama": HEALTHY},
    "litellm": {"ollama": HEALTHY, "ollama-pull": DONE},
}
HEALTHCHECKED = {"postgres", "temporal", "api", "mlflow", "ollama", "litellm"}
APP = {"migrate": "migrate", "api": "api", "worker": "worker"}
# Secrets oO cannot run without in production: compose refuses to start when one is unset.
REQUIRED_SECRETS = {"OO_PAYLOAD_KEYS", "OO_MASTER_KEYS", "OO_ADMIN_TOKEN", "OO_HASH_SALT"}
SECRET_NAME = re.compile(r"(PASSWORD|PWD|SECRET|TOKEN|_KEYS?|SALT)$")
REQUIRED_VAR = re.compile(r"\$\{(?P<var>\w+):\?[^}]+\}")
EMPTY_DEFAULT_VAR = re.compile(r"\$\{(?P<var>\w+):-\}")
DEFAULT = re.compile(r"\$\{\w+:-(?P<default>[^}]*)\}")


@cache
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def services() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose()["services"]
    return result


def env(name: str) -> dict[str, str]:
    raw = services()[name].get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: str(value) for key, value in raw.items()}


def conditions(name: str) -> dict[str, str]:
    depends = services()[name].get("depends_on", {})
    if isinstance(depends, list):  # the short form waits for nothing but the start
        return dict.fromkeys(depends, "service_started")
    return {target: spec["condition"] for target, spec in depends.items()}


def with_defaults(value: str) -> str:
    """The value compose uses when the optional variables in it are unset."""
    return DEFAULT.sub(lambda m: m["default"], value)


def host_port(mapping: str) -> int:
    return int(mapping.split(":")[-2])


def run_shell(script: str, **environment: str) -> int:
    """Run a compose shell command (`$$` is compose's escape of `$`) the way a container would."""
    proc = subprocess.run(
        ["sh", "-c", script.replace("$$", "$")],
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        timeout=10,
        check=False,
    )
    return proc.returncode


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines = [ln for ln in DOCKERFILE.read_text().splitlines() if not ln.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    pairs = []
    for line in text.splitlines():
        if line.strip():
            keyword, _, args = line.strip().partition(" ")
            pairs.append((keyword.upper(), args.strip()))
    return pairs


def dockerfile_args() -> dict[str, str]:
    """The ARG defaults, unquoted."""
    pairs = [arg.split("=", 1) for keyword, arg in dockerfile() if keyword == "ARG" and "=" in arg]
    return {name: value.strip("\"'") for name, value in pairs}


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


# ------------------------------------------------------------------------------ compose


def test_each_profile_has_exactly_its_services() -> None:
    found: dict[str, set[str]] = {}
    for name, svc in services().items():
        profiles = svc.get("profiles", [])
        # A service without a profile would start with every profile; one in two would
        # blur what each profile adds.
        assert len(profiles) == 1, f"{name}: profiles {profiles}"
        found.setdefault(profiles[0], set()).add(name)
    assert found == PROFILES


def test_a_profile_depends_only_on_itself() -> None:
    """`--profile core` runs alone; `mlops` and `ai` are added to it, never needed by it."""
    for name, svc in services().items():
        for target in conditions(name):
            assert svc["profiles"] == services()[target]["profiles"], f"{name} -> {target}"


def test_services_wait_for_what_they_need() -> None:
    for name in services():
        assert conditions(name) == DEPENDS.get(name, {}), name


def test_health_checks_where_something_waits_on_health() -> None:
    waited_on = {
        target
        for name in services()
        for target, condition in conditions(name).items()
        if condition == HEALTHY
    }
    assert waited_on <= HEALTHCHECKED
    for name in HEALTHCHECKED:
        check = services()[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), name
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_the_api_health_check_asks_the_api() -> None:
    api = services()["api"]
    port = api["command"][api["command"].index("--port") + 1]
    assert f"127.0.0.1:{port}/healthz" in " ".join(api["healthcheck"]["test"])


def test_one_shot_jobs_are_never_restarted() -> None:
    """A job that compose restarts never counts as completed, and its dependents never start."""
    jobs = {t for n in services() for t, c in conditions(n).items() if c == DONE}
    assert jobs == {"migrate", "temporal-schema", "temporal-setup", "ollama-pull"}
    for name in jobs:
        assert services()[name].get("restart", "no") == "no", name


def test_images_are_pinned() -> None:
    for name, svc in services().items():
        image = with_defaults(svc["image"])
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image}"


def test_api_worker_and_migration_are_one_image_with_three_commands() -> None:
    commands = {(c.name or c.callback.__name__) for c in cli_app.registered_commands if c.callback}
    first = services()["api"]
    for name, subcommand in APP.items():
        svc = services()[name]
        assert (svc["image"], svc["build"]) == (first["image"], first["build"]), name
        assert svc["command"][:2] == ["oo", subcommand], name
        assert subcommand in commands
    assert first["build"]["context"] == "."


def grace_seconds(value: str) -> float:
    """A compose duration such as 30s, 1m30s or 500ms, in seconds."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|m|s)", value)
    assert parts and "".join(n + u for n, u in parts) == value, value
    return sum(float(n) * units[u] for n, u in parts)


def test_a_stopped_worker_has_time_to_drain() -> None:
    """Compose waits 10 s between SIGTERM and SIGKILL unless told: the worker needs its drain
    and a margin (tests/faults/test_worker_drain.py shows the drain)."""
    grace = grace_seconds(services()["worker"]["stop_grace_period"])
    assert grace >= DRAIN.total_seconds() + 10


def test_every_oo_variable_the_services_set_is_a_settings_field() -> None:
    fields = {f"OO_{name.upper()}" for name in Settings.model_fields}
    for name in services():
        for var in env(name):
            if var.startswith("OO_"):
                assert var in fields, f"{name}: {var}"


def test_required_secrets_stop_compose_when_unset() -> None:
    for name in ("api", "worker"):
        for var in REQUIRED_SECRETS:
            match = REQUIRED_VAR.fullmatch(env(name).get(var, ""))
            assert match and match["var"] == var, f"{name}: {var}"
    for name in services():
        for var, value in env(name).items():
            if "POSTGRES_PASSWORD" in value or var in {"POSTGRES_PWD", "SQL_PASSWORD"}:
                assert "${POSTGRES_PASSWORD:?" in value, f"{name}: {var}"


def test_no_secret_is_written_in_the_file() -> None:
    secret_settings = {
        f"OO_{field.upper()}"
        for field, info in Settings.model_fields.items()
        if SecretStr in (get_args(info.annotation) or (info.annotation,))
    }
    for name in services():
        for var, value in env(name).items():
            if var in secret_settings or SECRET_NAME.search(var):
                # Required (${X:?...}) or optional and empty by default (${X:-}): never a value.
                ok = REQUIRED_VAR.fullmatch(value) or EMPTY_DEFAULT_VAR.fullmatch(value)
                assert ok, f"{name}: {var}={value}"


def test_the_litellm_proxy_refuses_to_start_without_a_key() -> None:
    """Its key cannot be ${VAR:?} (compose checks every profile), so the container checks it."""
    litellm = services()["litellm"]
    assert env("litellm")["LITELLM_MASTER_KEY"] == "${LITELLM_MASTER_KEY:-}"
    assert env("api")["OO_LITELLM_API_KEY"] == "${LITELLM_MASTER_KEY:-}"
    assert litellm["entrypoint"] == ["/bin/sh", "-c"]
    script = litellm["command"][0].replace("exec litellm", "exec true")
    assert script != litellm["command"][0]
    assert run_shell(script, LITELLM_MASTER_KEY="") != 0
    assert run_shell(script, LITELLM_MASTER_KEY="not-a-litellm-key") != 0
    assert run_shell(script, LITELLM_MASTER_KEY="sk-0123456789") == 0


def test_llm_and_tracing_are_opt_in_and_documented() -> None:
    """Unset by default (a missing LLM must not hold tips up); the README says what to set."""
    readme = README.read_text()
    targets = {"OO_LITELLM_URL": "litellm", "OO_MLFLOW_TRACKING_URI": "mlflow"}
    for var, target in targets.items():
        for name in ("api", "worker"):
            assert env(name)[var] == f"${{{var}:-}}", f"{name}: {var}"
        url = re.search(rf"{var}=(http://{target}:(\d+))", readme)
        assert url, f"the README does not say how to set {var}"
        command = " ".join(services()[target]["command"])
        assert re.search(rf"--port[ =]{url[2]}\b", command), f"{target} is not on {url[1]}"


def test_every_mounted_file_exists() -> None:
    mounts = [
        volume.split(":")[0]
        for svc in services().values()
        for volume in svc.get("volumes", [])
        if volume.startswith("./")
    ]
    assert mounts
    for source in mounts:
        assert (ROOT / source).is_file(), source


# ----------------------------------------------------------------------------- temporal


def test_the_cluster_has_the_dev_servers_dynamic_config() -> None:
    """ADR 0003's settings, compared with the values `oo dev` passes, so they cannot drift."""
    config = yaml.safe_load(DYNAMIC_CONFIG.read_text())
    for key, flag_value in DEV_SERVER_DYNAMIC_CONFIG.items():
        # The dev server's flag takes a JSON value; the file takes YAML.
        assert config.get(key) == [{"value": json.loads(flag_value)}], key
    temporal = services()["temporal"]
    path = env("temporal")["DYNAMIC_CONFIG_FILE_PATH"]
    assert f"./deploy/temporal/dynamicconfig.yaml:{path}:ro" in temporal["volumes"]


def test_temporal_persists_in_postgres() -> None:
    server, schema = env("temporal"), env("temporal-schema")
    assert server["DB"] == schema["SQL_PLUGIN"] == "postgres12"
    assert server["POSTGRES_SEEDS"] == schema["SQL_HOST"] == "postgres"
    for var in ("DBNAME", "VISIBILITY_DBNAME"):
        assert server[var] == schema[var], var
    assert server["POSTGRES_USER"] == schema["SQL_USER"] == env("postgres")["POSTGRES_USER"]


def test_the_namespace_and_search_attributes_are_oo_s() -> None:
    setup = env("temporal-setup")
    assert sorted(setup["SEARCH_ATTRIBUTES"].split()) == sorted(SEARCH_ATTRIBUTES)
    assert setup["TEMPORAL_NAMESPACE"] == env("api")["OO_TEMPORAL_NAMESPACE"]
    assert setup["TEMPORAL_ADDRESS"] == env("api")["OO_TEMPORAL_ADDRESS"]


def test_the_temporal_ui_decodes_through_the_api() -> None:
    ui, api = env("temporal-ui"), env("api")
    assert ui["TEMPORAL_ADDRESS"] == api["OO_TEMPORAL_ADDRESS"]
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == f"{api['OO_PUBLIC_URL']}/codec"
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    # The api allows the codec's cross-origin calls from OO_TEMPORAL_UI_URL only.
    ui_url = with_defaults(api["OO_TEMPORAL_UI_URL"])
    assert ui_url.endswith(f":{host_port(services()['temporal-ui']['ports'][0])}")


# ---------------------------------------------------------------------------- litellm


def test_litellm_routes_the_aliases_to_pulled_ollama_models() -> None:
    config = yaml.safe_load(LITELLM_CONFIG.read_text())
    routes = {entry["model_name"]: entry["litellm_params"] for entry in config["model_list"]}
    assert {"tip-generator", "embedder"} <= set(routes)
    served = set()
    for alias, params in routes.items():
        provider, _, model = params["model"].partition("/")
        assert provider in {"ollama", "ollama_chat"}, alias
        assert params["api_base"] == env("ollama-pull")["OLLAMA_HOST"], alias
        served.add(model)
    assert served == set(env("ollama-pull")["PULL_MODELS"].split())
    assert config["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    config_mount = services()["litellm"]["volumes"][0].split(":")[1]
    assert f"--config {config_mount}" in services()["litellm"]["command"][0]


# ------------------------------------------------------------------------------- image


def test_the_image_is_multi_stage_and_runs_as_a_user() -> None:
    assert sum(keyword == "FROM" for keyword, _ in dockerfile()) >= 2
    keywords = [keyword for keyword, _ in final_stage()]
    users = [args for keyword, args in final_stage() if keyword == "USER"]
    assert users, "the runtime stage runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert keywords.index("USER") < keywords.index("CMD")
    cmd = json.loads(next(args for keyword, args in final_stage() if keyword == "CMD"))
    assert cmd[:2] == ["oo", "api"]


def test_base_images_are_pinned() -> None:
    args = dockerfile_args()
    for keyword, value in dockerfile():
        if keyword == "FROM":
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], value.split()[0])
            if image != "build":  # an earlier stage
                assert ":" in image and not image.endswith(":latest"), image


def test_the_image_installs_no_test_tooling() -> None:
    assert {"dev", "local"} <= set(pyproject()["project"]["optional-dependencies"])
    assert dockerfile_args()["EXTRAS"] == ""
    requested = with_defaults(services()["api"]["build"]["args"]["EXTRAS"])
    assert not {"dev", "local"} & set(requested.split(","))
    # Extras come from EXTRAS only, never named in the Dockerfile...
    assert re.findall(r"\.\[[^\]]*\]", DOCKERFILE.read_text()) == [".[${EXTRAS}]"]
    # ...and the build refuses the test ones (the wheel build itself is replaced by `echo`).
    build = next(line for keyword, line in dockerfile() if keyword == "RUN" and "pip wheel" in line)
    script = build.replace("pip wheel", "echo")
    assert run_shell(script, EXTRAS="") == 0
    assert run_shell(script, EXTRAS="mlops") == 0
    assert run_shell(script, EXTRAS="dev") != 0
    assert run_shell(script, EXTRAS="mlops,local") != 0


def test_the_build_context_leaves_out_what_the_image_must_not_hold() -> None:
    lines = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    ignored = {line for line in lines if line and not line.startswith("#")}
    required = {".git", "tests", ".venv", ".oo", "bench/results", ".env", "secrets.env"}
    required |= {".pytest_cache", ".mypy_cache", ".ruff_cache", "**/__pycache__"}
    assert required <= ignored, required - ignored
    # ...and keeps everything the package is built from.
    setuptools = pyproject()["tool"]["setuptools"]
    packaged = {p.rstrip("*") for p in setuptools["packages"]["find"]["include"]}
    packaged |= {f"{m}.py" for m in setuptools["py-modules"]}
    packaged |= {"pyproject.toml", "README.md"}
    assert not packaged & ignored, packaged & ignored
