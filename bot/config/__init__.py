"""Configuration: the dataclasses each part receives, and the loader that validates TOML into them."""

from bot.config import model
from bot.config.fields import ConfigError, parse_duration
from bot.config.load import (
    DATABASE_PASSWORD_ENV,
    NO_CHANNELS,
    NO_SOURCES,
    TOKEN_ENV,
    config_from_dict,
    load_config,
)
from bot.config.model import *  # noqa: F403 - the dataclasses, as model.__all__ lists them

__all__ = [
    "DATABASE_PASSWORD_ENV",
    "NO_CHANNELS",
    "NO_SOURCES",
    "TOKEN_ENV",
    "ConfigError",
    "config_from_dict",
    "load_config",
    "parse_duration",
]
__all__ += model.__all__  # a form type checkers follow
