"""Error types. Each message names the file, field or thing at fault and says what to do."""

from __future__ import annotations


class ValueSpectrumError(Exception):
    """Base class: errors the CLI reports as a one-line message rather than a traceback."""


class ConfigError(ValueSpectrumError):
    """A manifest, item file or option is invalid (the message points at the field)."""


class MediaChangedError(ValueSpectrumError):
    """A referenced media file is missing or its bytes no longer match the recorded digest."""


class BackendError(ValueSpectrumError):
    """A model backend could not be created or could not serve requests."""


class MissingDependencyError(ValueSpectrumError):
    """An optional dependency needed for the requested feature is not installed."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        super().__init__(
            f"{feature} needs the '{package}' package; install it with "
            f"`pip install -c constraints-cpu.txt 'valuespectrum[{extra}]'`"
        )
        self.package = package
        self.extra = extra


def require(module: str, *, package: str | None = None, extra: str, feature: str) -> object:
    """Import an optional module lazily, raising MissingDependencyError with the fix if absent."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependencyError(package or module, extra, feature) from exc
