"""Browser tests: Playwright drives Debian's Chromium against the real app on a live server."""
