"""Write figures as PDF and PNG with reproducible bytes.

The same figure gives the same files on every run: no creation date, a fixed
producer/creator, no software tag in the PNG. Each file is rendered in memory, written
to a temporary file next to its target and renamed into place, so a reader never sees
a half-written file and an interrupted run leaves the old file intact.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from pathlib import Path

from plots.style import DPI, paper

#: Formats written by :func:`save_figure`, in order.
FORMATS = ("pdf", "png")

_PRODUCER = "compression-barriers"

#: Metadata per format; ``None`` drops a key matplotlib would otherwise fill in.
METADATA = {
    "pdf": {"Creator": _PRODUCER, "Producer": _PRODUCER, "CreationDate": None, "ModDate": None},
    "png": {"Software": None},
}


@contextlib.contextmanager
def _quiet_font_subsetting():
    """fontTools warns about old timestamps in the bundled fonts while embedding them; not ours to fix."""
    logger = logging.getLogger("fontTools")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def figure_bytes(fig, fmt: str) -> bytes:
    """Render ``fig`` to ``fmt`` (``"pdf"`` or ``"png"``) and return the bytes."""
    if fmt not in METADATA:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    buffer = io.BytesIO()
    # Save-time rcParams (font embedding, DPI) must be active while rendering;
    # SOURCE_DATE_EPOCH is irrelevant once the dates are dropped from the metadata.
    with paper(), _quiet_font_subsetting():
        fig.savefig(buffer, format=fmt, dpi=DPI, metadata=dict(METADATA[fmt]))
    return buffer.getvalue()


def save_figure(fig, path_stem: str | os.PathLike[str]) -> list[Path]:
    """Write ``fig`` to ``<path_stem>.pdf`` and ``<path_stem>.png``; return the paths.

    Parent directories are created. Any suffix already on ``path_stem`` is kept as part
    of the name (``"out/fig.v2"`` gives ``out/fig.v2.pdf``).
    """
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in FORMATS:
        target = stem.with_name(f"{stem.name}.{fmt}")
        _atomic_write(target, figure_bytes(fig, fmt))
        paths.append(target)
    return paths


def _atomic_write(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file in the same directory."""
    handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise

