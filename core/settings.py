"""The one Settings class (env prefix OO_), read through a cached get_settings()."""

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration; every field is an `OO_<NAME>` environment variable."""

    model_config = SettingsConfigDict(env_prefix="OO_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    data_dir: Path = Path(".oo")
    database_url: str = ""
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # A Temporal cluster behind TLS: on with any of the settings below, or by itself (system
    # roots). mTLS: a client certificate and its key (PEM files), both or neither.
    temporal_tls: bool = False
    temporal_tls_ca_file: Path | None = None
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    # The name the server's certificate is checked against, when not the address's host.
    temporal_tls_server_name: str | None = None
    # An API key (Temporal Cloud), sent as a bearer token; implies TLS.
    temporal_api_key: SecretStr = SecretStr("")
    # Workers poll it and the api starts workflows on it.
    task_queue: str = "oo"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"
    # Comma-separated "key-id:base64-32-bytes" entries; the first encrypts, all decrypt.
    payload_keys: SecretStr = SecretStr("")
    # Master keys of the token vault ("kid:base64,...", first wraps new data keys).
    master_keys: SecretStr = SecretStr("")
    # Bearer token for automation (POST /api/auth/token) and the Temporal UI codec endpoints.
    admin_token: SecretStr = SecretStr("")
    # Keyed hash of provider ids (task and project keys are never stored in clear).
    hash_salt: SecretStr = SecretStr("")
    # OpenID Connect login (any issuer; Google by default) — also the Google OAuth client.
    oidc_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid email profile"
    # A fresh login is required for account deletion: signed in within this many minutes.
    fresh_login_minutes: int = Field(default=10, ge=1)
    # Todoist OAuth client and API.
    todoist_client_id: str | None = None
    todoist_client_secret: SecretStr | None = None
    todoist_authorize_url: str = "https://todoist.com/oauth/authorize"
    todoist_token_url: str = "https://todoist.com/oauth/access_token"  # noqa: S105 - a URL
    todoist_api_base: str = "https://api.todoist.com/api/v1"
    # Google token endpoints (refresh and RFC 7009 revocation of integration tokens).
    google_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
    google_revoke_url: str = "https://oauth2.googleapis.com/revoke"
    # A provider history older than this is synced before an agent computes.
    sync_stale_minutes: int = Field(default=60, ge=1)
    litellm_url: str | None = None
    litellm_api_key: SecretStr | None = None
    llm_timeout_seconds: float = Field(default=8.0, gt=0)
    llm_max_tokens: int = Field(default=120, ge=16)
    llm_temperature: float = Field(default=0.7, ge=0, le=2)
    session_idle_days: int = Field(default=14, ge=1)
    session_absolute_days: int = Field(default=90, ge=1)
    login_token_minutes: int = Field(default=30, ge=1)
    tip_ttl_minutes: int = Field(default=180, ge=1)
    tip_wait_seconds: float = Field(default=15.0, gt=0)
    # Request bodies over this many bytes are refused with 413.
    max_body_bytes: int = Field(default=65536, ge=1024)
    # Generated tips per user per local day; past it, the current tip stays.
    tip_daily_budget: int = Field(default=12, ge=1)
    # Concurrent LLM calls per worker (the oo-llm task queue is capped independently).
    llm_concurrency: int = Field(default=8, ge=1)
    # MLflow tracing (best effort, never on the critical path); unset → no tracing.
    mlflow_tracking_uri: str | None = None
    mlflow_experiment: str = "oo"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("public_url", "temporal_ui_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _temporal_tls_files(self) -> "Settings":
        if (self.temporal_tls_cert_file is None) != (self.temporal_tls_key_file is None):
            raise ValueError(
                "set both OO_TEMPORAL_TLS_CERT_FILE and OO_TEMPORAL_TLS_KEY_FILE, or neither"
            )
        return self

    @property
    def temporal_uses_tls(self) -> bool:
        files = (self.temporal_tls_ca_file, self.temporal_tls_cert_file)
        api_key = bool(self.temporal_api_key.get_secret_value())
        return self.temporal_tls or api_key or any(f is not None for f in files)

    @model_validator(mode="after")
    def _derive_database_url(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'oo.db'}"
        return self

    @property
    def session_idle(self) -> timedelta:
        return timedelta(days=self.session_idle_days)

    @property
    def session_absolute(self) -> timedelta:
        return timedelta(days=self.session_absolute_days)

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure whenever the public URL is https."""
        return self.public_url.startswith("https://")


class SettingsError(SystemExit):
    """Invalid settings end the process with what is wrong, never a stack trace, and never a
    value (pydantic's own message quotes the input, secrets included)."""


def explain(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        names = [str(part) for part in error["loc"]]
        lines.append(f"OO_{names[0].upper()}: {message}" if names else message)
    return "invalid settings:\n  " + "\n  ".join(lines)


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, validated once per process."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(explain(exc)) from None
