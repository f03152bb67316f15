"""Screenshots of the pages, taken while the browser tests walk through them.

They go to var/screenshots/, or with UPDATE_SCREENSHOTS=1 to docs/screenshots/, the ones the
documentation shows (each run has new case numbers, so every run would change those files).
They document the pages; they test nothing. Chromium now and then answers "Unable to capture
screenshot" on a loaded machine, so a capture is tried again, and one that still fails is a
warning, not a failed test of behaviour that worked.
"""

import os
import time
import warnings
from pathlib import Path

from playwright.sync_api import Error

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "docs" / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else REPO / "var" / "screenshots"


def save_screenshot(page, name: str, *, full_page: bool = False, attempts: int = 3) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        try:
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
            return
        except Error as error:
            if attempt == attempts:
                warnings.warn(f"no screenshot {name}.png: {error.message.splitlines()[0]}", stacklevel=2)
            else:
                time.sleep(0.5)
