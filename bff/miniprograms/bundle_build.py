"""Build a mini-program bundle zip from its source folder, byte for byte reproducibly.

The manifest names the bundle by its SHA-256, so the same sources must always
give the same zip: entries sorted by path, one fixed timestamp and file mode,
no directory entries and no hidden files (.DS_Store, .git).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Final

# The earliest time a zip can record; any fixed value would do.
FIXED_TIME: Final = (1980, 1, 1, 0, 0, 0)
_FILE_MODE: Final = 0o100644  # a regular file, rw-r--r--


def bundle_files(source: Path) -> list[Path]:
    """The files that go into the bundle, sorted by their path inside it."""
    files = [
        path
        for path in source.rglob("*")
        if path.is_file()
        and not path.is_symlink()
        and not any(part.startswith(".") for part in path.relative_to(source).parts)
    ]
    return sorted(files, key=lambda path: path.relative_to(source).as_posix())


def build_bundle(source: Path) -> bytes:
    """The zip of `source`'s files; the same files always give the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in bundle_files(source):
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below is read as one
            info.external_attr = _FILE_MODE << 16
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return out.getvalue()
