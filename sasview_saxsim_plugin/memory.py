"""Memory sizes: reading a budget ('2GiB') and what the machine has available now."""

from __future__ import annotations

import os

from .errors import SaxsimInputError


def parse_bytes(value) -> int:
    """Parse a memory size: an int (bytes) or a string like '2GiB', '512MB', '1.5G'."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        b = int(value)
    else:
        s = str(value).strip().lower().replace(" ", "")
        units = {"tib": 2**40, "gib": 2**30, "mib": 2**20, "kib": 2**10, "tb": 10**12,
                 "gb": 10**9, "mb": 10**6, "kb": 10**3, "t": 2**40, "g": 2**30, "m": 2**20,
                 "k": 2**10, "b": 1}
        for u, mult in units.items():
            if s.endswith(u):
                try:
                    b = int(float(s[: -len(u)]) * mult)
                except ValueError:
                    raise SaxsimInputError(f"cannot read memory size {value!r}") from None
                break
        else:
            try:
                b = int(float(s))
            except ValueError:
                raise SaxsimInputError(
                    f"cannot read memory size {value!r} (use e.g. 512MiB or 2GiB)") from None
    if b <= 0:
        raise SaxsimInputError(f"memory budget must be positive, got {value!r}")
    return b


def available_memory_bytes() -> int | None:
    """MemAvailable from /proc/meminfo in bytes (None where unknown)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
