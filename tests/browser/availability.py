"""Whether browser tests can run here: Debian's Chromium and the playwright package.

Without them the tests are skipped with the reason; with GRANTS_REQUIRE_BROWSER=1 (CI)
the same reason fails them instead.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

DEFAULT_CHROMIUM = "/usr/bin/chromium"


def chromium_executable() -> str:
    return os.environ.get("GRANTS_CHROMIUM") or DEFAULT_CHROMIUM


def browser_is_required() -> bool:
    return os.environ.get("GRANTS_REQUIRE_BROWSER", "").lower() in {"1", "true", "yes", "on"}


def playwright_missing_reason() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright Python package is not installed (pip install -e '.[test]')"
    return None


def browser_unavailable_reason() -> str | None:
    """Why no browser test can run here, or None when Chromium and Playwright are present."""
    executable = chromium_executable()
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        return (f"no Chromium at {executable} (install Debian's `chromium` package or set "
                f"GRANTS_CHROMIUM to its path)")
    return playwright_missing_reason()


def refuse(reason: str, *, module_level: bool = False):
    """Skip with ``reason``, or fail with it when the browser is required."""
    if browser_is_required():
        pytest.fail(f"GRANTS_REQUIRE_BROWSER is set but {reason}", pytrace=False)
    pytest.skip(f"browser test skipped: {reason}", allow_module_level=module_level)


def require_playwright_module() -> None:
    """For modules that import playwright: skip (or fail) them at collection without it."""
    reason = playwright_missing_reason()
    if reason:
        refuse(reason, module_level=True)
