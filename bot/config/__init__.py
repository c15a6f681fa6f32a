"""Configuration: the dataclasses each part receives, and the loader that validates TOML into them."""

from bot.config.fields import ConfigError, parse_duration
from bot.config.load import (
    DATABASE_PASSWORD_ENV,
    NO_CHANNELS,
    NO_SOURCES,
    TOKEN_ENV,
    config_from_dict,
    load_config,
)
from bot.config.model import (
    Channel,
    Config,
    Corrections,
    DedupConfig,
    DeliveryConfig,
    EnrichConfig,
    HealthConfig,
    ImageMode,
    ServiceConfig,
    TelegramConfig,
    UncertainPolicy,
    UnknownSource,
)

__all__ = [
    "DATABASE_PASSWORD_ENV",
    "NO_CHANNELS",
    "NO_SOURCES",
    "TOKEN_ENV",
    "Channel",
    "Config",
    "ConfigError",
    "Corrections",
    "DedupConfig",
    "DeliveryConfig",
    "EnrichConfig",
    "HealthConfig",
    "ImageMode",
    "ServiceConfig",
    "TelegramConfig",
    "UncertainPolicy",
    "UnknownSource",
    "config_from_dict",
    "load_config",
    "parse_duration",
]
