"""A tqdm-style one-line progress bar on stderr, drawn only on a terminal
(`enabled=None` asks isatty), so scripts and logs stay quiet. unit: "B"
shows bytes, "" plain counts, None no amounts (a fraction of 1)."""

import sys
import time
from typing import Optional, TextIO


class Bar:
    def __init__(self, description: str, total: float = 0.0, unit: Optional[str] = "",
                 enabled: Optional[bool] = None, stream: TextIO = sys.stderr, width: int = 24):
        self.description = description
        self.total = total
        self.unit = unit
        self.stream = stream
        self.width = width
        self.enabled = stream.isatty() if enabled is None else enabled
        self._start = time.monotonic()
        self._last_length = 0
        self._closed = False

    def update(self, done: float, total: Optional[float] = None, note: str = "") -> None:
        if total is not None:
            self.total = total
        if not self.enabled or self._closed:
            return
        fraction = min(done / self.total, 1.0) if self.total > 0 else 0.0
        filled = int(fraction * self.width)
        elapsed = time.monotonic() - self._start
        eta = ""
        if 0 < fraction < 1:
            eta = f" ETA {max(elapsed / fraction - elapsed, 0):.0f}s"
        amounts = "" if self.unit is None else \
            f" {_amount(done, self.unit)}/{_amount(self.total, self.unit)}"
        line = (f"{self.description} [{'#' * filled}{'.' * (self.width - filled)}] "
                f"{fraction * 100:3.0f}%{amounts} {note}{eta}").rstrip()
        pad = " " * max(self._last_length - len(line), 0)
        self.stream.write("\r" + line + pad)
        self.stream.flush()
        self._last_length = len(line)

    def close(self, note: str = "") -> None:
        if self.enabled and not self._closed:
            if note:
                self.update(self.total, note=note)
            self.stream.write("\n")
            self.stream.flush()
        self._closed = True


def _amount(value: float, unit: str) -> str:
    if unit == "B":
        for suffix, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
            if value >= size:
                return f"{value / size:.1f}{suffix}"
        return f"{value:.0f}B"
    return f"{value:.0f}"
