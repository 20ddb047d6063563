"""Mini-program web bundles: checked before release, stored by their SHA-256, read file by file.

A bundle is a zip the partner uploads next to a manifest that names its
digest and size. The host refuses it unless the bytes match the manifest and
the zip is safe to read: no entry may escape the bundle (zip-slip), be a
symlink, or decompress into far more than it declared (zip bomb). Stored
bundles are immutable: a digest names one content forever.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
import stat
import tempfile
import zipfile
import zlib
from enum import StrEnum
from pathlib import Path
from typing import Protocol

# Limits in line with the manifest schema's bundle.size maximum (10 MB).
MAX_BUNDLE_BYTES = 10_000_000
MAX_UNCOMPRESSED_BYTES = 50_000_000
MAX_ENTRIES = 2_000

# What every zip tool writes; bzip2 and LZMA cost far more CPU to unpack.
_COMPRESSION = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
# A Windows drive ("C:") makes a name absolute for some unzip tools.
_DRIVE = re.compile(r"^[A-Za-z]:")

# Fixed rather than the mimetypes module, whose answers depend on the
# machine's /etc/mime.types.
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class BundleErrorCode(StrEnum):
    BUNDLE_TOO_LARGE = "BUNDLE_TOO_LARGE"
    BUNDLE_SIZE_MISMATCH = "BUNDLE_SIZE_MISMATCH"
    BUNDLE_DIGEST_MISMATCH = "BUNDLE_DIGEST_MISMATCH"
    BUNDLE_DIGEST_INVALID = "BUNDLE_DIGEST_INVALID"
    BUNDLE_NOT_A_ZIP = "BUNDLE_NOT_A_ZIP"
    BUNDLE_CORRUPT = "BUNDLE_CORRUPT"
    BUNDLE_PATH_UNSAFE = "BUNDLE_PATH_UNSAFE"
    BUNDLE_ENTRY_DUPLICATE = "BUNDLE_ENTRY_DUPLICATE"
    BUNDLE_SYMLINK = "BUNDLE_SYMLINK"
    BUNDLE_ENCRYPTED = "BUNDLE_ENCRYPTED"
    BUNDLE_COMPRESSION_UNSUPPORTED = "BUNDLE_COMPRESSION_UNSUPPORTED"
    BUNDLE_TOO_MANY_ENTRIES = "BUNDLE_TOO_MANY_ENTRIES"
    BUNDLE_UNCOMPRESSED_TOO_LARGE = "BUNDLE_UNCOMPRESSED_TOO_LARGE"
    BUNDLE_ENTRY_PAGE_MISSING = "BUNDLE_ENTRY_PAGE_MISSING"
    BUNDLE_INLINE_SCRIPT = "BUNDLE_INLINE_SCRIPT"


class BundleRejected(Exception):
    def __init__(self, code: BundleErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class BundleStore(Protocol):
    """Where released bundles live, addressed by the SHA-256 of their bytes (64 lowercase hex)."""

    def put(self, data: bytes) -> str: ...

    def get(self, digest: str) -> bytes | None: ...

    def exists(self, digest: str) -> bool: ...


class DirectoryBundleStore:
    """Bundles as files under `root/sha256/<first 2 hex>/<digest>.zip`.

    The two-hex fan-out keeps directories small; writes go to a temporary file
    renamed into place, so a reader (another BFF instance on a shared volume)
    sees a whole bundle or none.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        path = self.path_for(digest)
        if path.exists():
            return digest  # same digest, same bytes: nothing to write
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{digest}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes | None:
        try:
            return self.path_for(digest).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, digest: str) -> bool:
        return self.path_for(digest).is_file()

    def path_for(self, digest: str) -> Path:
        """The file of `digest`; refuses anything but a digest, which would otherwise be a path."""
        _require_digest(digest)
        return self.root / "sha256" / digest[:2] / f"{digest}.zip"


def sha256_hex(data: bytes) -> str:
    """The content address of a bundle."""
    return hashlib.sha256(data).hexdigest()


def check_bundle(
    data: bytes,
    expected_sha256: str,
    expected_size: int,
    entry_page: str,
    *,
    max_bytes: int = MAX_BUNDLE_BYTES,
    max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES,
    max_entries: int = MAX_ENTRIES,
) -> None:
    """Refuse (BundleRejected) a bundle that is not the one the manifest names or is unsafe to unpack."""
    # Size first: an oversized upload is refused without spending time hashing it.
    if len(data) > max_bytes:
        raise BundleRejected(
            BundleErrorCode.BUNDLE_TOO_LARGE, f"bundle is {len(data)} bytes; the limit is {max_bytes}"
        )
    if len(data) != expected_size:
        raise BundleRejected(
            BundleErrorCode.BUNDLE_SIZE_MISMATCH,
            f"bundle is {len(data)} bytes but the manifest says {expected_size}",
        )
    actual = sha256_hex(data)
    if actual != expected_sha256:
        raise BundleRejected(
            BundleErrorCode.BUNDLE_DIGEST_MISMATCH,
            f"bundle SHA-256 is {actual} but the manifest says {expected_sha256}",
        )
    with _open_zip(data) as bundle:
        _check_entries(bundle.infolist(), max_entries)
        _check_uncompressed_size(bundle.infolist(), max_uncompressed_bytes)
        _check_entry_page(bundle, entry_page)
        _check_contents(bundle)
        _check_no_inline_script(bundle)


def bundle_entry(store: BundleStore, digest: str, path: str) -> bytes | None:
    """One file of a stored bundle, for serving; None when the bundle or the file is not there."""
    _require_digest(digest)
    name = _entry_name(path)
    data = store.get(digest)
    if data is None:
        return None
    with _open_zip(data) as bundle:
        try:
            info = bundle.getinfo(name)
        except KeyError:
            return None
        return None if info.is_dir() else bundle.read(info)


def content_type_for(path: str) -> str:
    """The Content-Type to serve a bundle file with; unknown kinds are served as opaque bytes."""
    return _CONTENT_TYPES.get(posixpath.splitext(path)[1].lower(), DEFAULT_CONTENT_TYPE)


def _require_digest(digest: str) -> None:
    if not _DIGEST.fullmatch(digest):
        raise BundleRejected(
            BundleErrorCode.BUNDLE_DIGEST_INVALID,
            "a bundle digest is a SHA-256 in 64 lowercase hexadecimal digits",
        )


def _entry_name(path: str) -> str:
    # A request path like "/pages/bill.html" names the entry "pages/bill.html".
    # ".." is refused rather than resolved: no legitimate request needs it.
    name = path.lstrip("/")
    if "\\" in name or "\x00" in name or any(part in ("..", ".", "") for part in name.split("/")):
        raise BundleRejected(BundleErrorCode.BUNDLE_PATH_UNSAFE, f"bundle path {path!r} is not allowed")
    return name


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise BundleRejected(BundleErrorCode.BUNDLE_NOT_A_ZIP, "bundle is not a readable zip file") from exc


def _check_entries(infos: list[zipfile.ZipInfo], max_entries: int) -> None:
    if len(infos) > max_entries:
        raise BundleRejected(
            BundleErrorCode.BUNDLE_TOO_MANY_ENTRIES,
            f"bundle has {len(infos)} entries; the limit is {max_entries}",
        )
    seen: set[str] = set()
    for info in infos:
        _check_entry_name(info.filename)
        if info.filename in seen:
            # Unzip tools disagree on which duplicate wins, so review and serving could differ.
            raise BundleRejected(
                BundleErrorCode.BUNDLE_ENTRY_DUPLICATE, f"bundle entry {info.filename!r} appears twice"
            )
        seen.add(info.filename)
        if _is_symlink(info):
            raise BundleRejected(
                BundleErrorCode.BUNDLE_SYMLINK, f"bundle entry {info.filename!r} is a symbolic link"
            )
        if info.flag_bits & 0x1:
            raise BundleRejected(
                BundleErrorCode.BUNDLE_ENCRYPTED, f"bundle entry {info.filename!r} is encrypted"
            )
        if info.compress_type not in _COMPRESSION:
            raise BundleRejected(
                BundleErrorCode.BUNDLE_COMPRESSION_UNSUPPORTED,
                f"bundle entry {info.filename!r} is compressed with method {info.compress_type}; "
                "use stored or deflate",
            )


def _check_entry_name(name: str) -> None:
    directory_name = name[:-1] if name.endswith("/") else name
    if name.startswith("/") or _DRIVE.match(name):
        raise BundleRejected(BundleErrorCode.BUNDLE_PATH_UNSAFE, f"bundle entry {name!r} is an absolute path")
    if "\\" in name or any(part in ("..", ".", "") for part in directory_name.split("/")):
        raise BundleRejected(
            BundleErrorCode.BUNDLE_PATH_UNSAFE,
            f"bundle entry {name!r} is not a plain relative path ('..', '.', '\\\\' or empty parts)",
        )


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    # Unix zip tools keep the file mode in the high 16 bits of external_attr.
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _check_uncompressed_size(infos: list[zipfile.ZipInfo], limit: int) -> None:
    # The declared sizes are binding: zipfile stops decompressing an entry at
    # its declared size and fails its CRC if more was hidden (_check_contents).
    total = sum(info.file_size for info in infos)
    if total > limit:
        raise BundleRejected(
            BundleErrorCode.BUNDLE_UNCOMPRESSED_TOO_LARGE,
            f"bundle unpacks to {total} bytes; the limit is {limit}",
        )


def _check_entry_page(bundle: zipfile.ZipFile, entry_page: str) -> None:
    name = _entry_name(entry_page)
    if name not in bundle.namelist() or bundle.getinfo(name).is_dir():
        raise BundleRejected(
            BundleErrorCode.BUNDLE_ENTRY_PAGE_MISSING, f"bundle has no entry page {entry_page!r}"
        )


def _check_contents(bundle: zipfile.ZipFile) -> None:
    try:
        bad = bundle.testzip()
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError) as exc:
        raise BundleRejected(BundleErrorCode.BUNDLE_CORRUPT, f"bundle cannot be unpacked: {exc}") from exc
    if bad is not None:
        raise BundleRejected(
            BundleErrorCode.BUNDLE_CORRUPT,
            f"bundle entry {bad!r} does not unpack to what it declares (CRC or size)",
        )


# The sandbox's CSP runs only the bundle's own script files (script-src 'self', no
# 'unsafe-inline'), so inline code would silently do nothing on a customer's phone:
# refuse it at upload, where the partner can still move it into a .js file.
_INLINE_SCRIPT = re.compile(
    rb"<script\b(?![^>]*\bsrc\s*=)(?![^>]*\btype\s*=\s*[\"']?application/(?:ld\+)?json)[^>]*>\s*\S",
    re.IGNORECASE,
)
_INLINE_HANDLER = re.compile(rb"<[a-z][^>]*\s(on[a-z]+)\s*=|\bhref\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)


def _check_no_inline_script(bundle: zipfile.ZipFile) -> None:
    for info in bundle.infolist():
        if info.is_dir() or not info.filename.lower().endswith((".html", ".htm")):
            continue
        page = bundle.read(info)
        found = _INLINE_SCRIPT.search(page) or _INLINE_HANDLER.search(page)
        if found is not None:
            what = found.group(0)[:60].decode("utf-8", "replace")
            raise BundleRejected(
                BundleErrorCode.BUNDLE_INLINE_SCRIPT,
                f"{info.filename} has inline script ({what!r}); the sandbox runs only script files "
                "of the bundle (CSP script-src 'self'), so move it into a .js file",
            )
