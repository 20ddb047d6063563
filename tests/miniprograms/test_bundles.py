"""Bundles: only the bundle the manifest names, and only a zip that is safe to unpack, is accepted."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from bff.miniprograms import bundles
from bff.miniprograms.bundles import (
    BundleErrorCode,
    BundleRejected,
    DirectoryBundleStore,
    bundle_entry,
    check_bundle,
    content_type_for,
)

INDEX = b"<!doctype html><title>Park</title><script src='app.js'></script>"


def make_zip(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(zipfile.ZipInfo(name), content, compress_type=compression)
    return buffer.getvalue()


def sample_bundle() -> bytes:
    return make_zip({"index.html": INDEX, "app.js": b"console.log('hi')", "pages/bill.html": b"<p>bill</p>"})


def check(data: bytes, entry_page: str = "index.html", **limits: int) -> None:
    check_bundle(data, hashlib.sha256(data).hexdigest(), len(data), entry_page, **limits)


def rejection(data: bytes, entry_page: str = "index.html", **limits: int) -> BundleErrorCode:
    with pytest.raises(BundleRejected) as caught:
        check(data, entry_page, **limits)
    return caught.value.code


# The store


def test_store_returns_what_was_put_under_its_sha256(tmp_path: Path) -> None:
    store = DirectoryBundleStore(tmp_path)
    data = sample_bundle()
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.get(digest) == data
    assert store.exists(digest)


def test_store_lays_bundles_out_by_digest_prefix_with_no_temporary_files_left(tmp_path: Path) -> None:
    digest = DirectoryBundleStore(tmp_path).put(sample_bundle())
    files = [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [f"sha256/{digest[:2]}/{digest}.zip"]


def test_putting_the_same_bytes_again_keeps_the_first_file(tmp_path: Path) -> None:
    store = DirectoryBundleStore(tmp_path)
    digest = store.put(sample_bundle())
    path = store.path_for(digest)
    first = path.stat().st_ino, path.stat().st_mtime_ns
    assert store.put(sample_bundle()) == digest
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == first


def test_interrupted_write_leaves_neither_a_bundle_nor_a_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(src: str, dst: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        DirectoryBundleStore(tmp_path).put(sample_bundle())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_store_answers_none_for_an_unknown_digest(tmp_path: Path) -> None:
    store = DirectoryBundleStore(tmp_path)
    assert store.get("0" * 64) is None
    assert not store.exists("0" * 64)


def test_store_refuses_a_digest_that_is_really_a_path(tmp_path: Path) -> None:
    with pytest.raises(BundleRejected) as caught:
        DirectoryBundleStore(tmp_path).get("../../etc/passwd")
    assert caught.value.code == BundleErrorCode.BUNDLE_DIGEST_INVALID


# check_bundle


def test_bundle_matching_its_manifest_passes() -> None:
    check(sample_bundle())
    check(sample_bundle(), entry_page="pages/bill.html")


def test_bundle_changed_after_the_manifest_was_signed_is_a_digest_mismatch_naming_both() -> None:
    original = sample_bundle()
    tampered = bytearray(original)
    tampered[40] ^= 0x01
    expected = hashlib.sha256(original).hexdigest()
    with pytest.raises(BundleRejected) as caught:
        check_bundle(bytes(tampered), expected, len(original), "index.html")
    assert caught.value.code == BundleErrorCode.BUNDLE_DIGEST_MISMATCH
    assert expected in caught.value.message
    assert hashlib.sha256(tampered).hexdigest() in caught.value.message


def test_bundle_of_another_size_than_declared_is_a_size_mismatch() -> None:
    data = sample_bundle()
    with pytest.raises(BundleRejected) as caught:
        check_bundle(data, hashlib.sha256(data).hexdigest(), len(data) + 1, "index.html")
    assert caught.value.code == BundleErrorCode.BUNDLE_SIZE_MISMATCH


def test_oversized_bundle_is_refused_before_it_is_hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_hashing(data: bytes) -> str:
        raise AssertionError("an oversized bundle was hashed")

    monkeypatch.setattr(bundles, "sha256_hex", no_hashing)
    data = bytes(2_000)
    with pytest.raises(BundleRejected) as caught:
        check_bundle(data, "0" * 64, len(data), "index.html", max_bytes=1_000)
    assert caught.value.code == BundleErrorCode.BUNDLE_TOO_LARGE


def test_bytes_that_are_not_a_zip_are_refused() -> None:
    assert rejection(b"<html>not a zip</html>") == BundleErrorCode.BUNDLE_NOT_A_ZIP


@pytest.mark.parametrize("name", ["../x", "pages/../../x", "a/./b", "a//b", "a\\..\\b"])
def test_entry_escaping_the_bundle_is_refused(name: str) -> None:
    data = make_zip({"index.html": INDEX, name: b"owned"})
    assert rejection(data) == BundleErrorCode.BUNDLE_PATH_UNSAFE


@pytest.mark.parametrize("name", ["/etc/cron.d/x", "C:/Windows/x"])
def test_entry_with_an_absolute_path_is_refused(name: str) -> None:
    data = make_zip({"index.html": INDEX, name: b"owned"})
    assert rejection(data) == BundleErrorCode.BUNDLE_PATH_UNSAFE


def test_symlink_entry_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", INDEX)
        link = zipfile.ZipInfo("secrets")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    assert rejection(buffer.getvalue()) == BundleErrorCode.BUNDLE_SYMLINK


def test_duplicate_entry_names_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", INDEX)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("index.html", b"<script>other()</script>")
    assert rejection(buffer.getvalue()) == BundleErrorCode.BUNDLE_ENTRY_DUPLICATE


def test_zip_bomb_by_uncompressed_size_is_refused() -> None:
    data = make_zip({"index.html": INDEX, "zeros.bin": bytes(2_000_000)})
    assert len(data) < 20_000
    assert rejection(data, max_uncompressed_bytes=1_000_000) == BundleErrorCode.BUNDLE_UNCOMPRESSED_TOO_LARGE


def test_entry_hiding_more_data_than_it_declares_is_corrupt() -> None:
    # Understate zeros.bin in the central directory: 2 MB declared as 100 bytes.
    data = bytearray(make_zip({"index.html": INDEX, "zeros.bin": bytes(2_000_000)}))
    entry = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, entry + 24, 100)
    assert rejection(bytes(data), max_uncompressed_bytes=1_000_000) == BundleErrorCode.BUNDLE_CORRUPT


def test_too_many_entries_are_refused() -> None:
    data = make_zip({"index.html": INDEX} | {f"f{i}.js": b"" for i in range(10)})
    assert rejection(data, max_entries=5) == BundleErrorCode.BUNDLE_TOO_MANY_ENTRIES


def test_bundle_without_its_entry_page_is_refused() -> None:
    data = make_zip({"app.js": b"console.log('hi')"})
    assert rejection(data) == BundleErrorCode.BUNDLE_ENTRY_PAGE_MISSING


def test_compression_other_than_deflate_or_stored_is_refused() -> None:
    data = make_zip({"index.html": INDEX}, compression=zipfile.ZIP_LZMA)
    assert rejection(data) == BundleErrorCode.BUNDLE_COMPRESSION_UNSUPPORTED


# bundle_entry


@pytest.fixture
def stored(tmp_path: Path) -> tuple[DirectoryBundleStore, str]:
    store = DirectoryBundleStore(tmp_path)
    return store, store.put(sample_bundle())


def test_bundle_entry_reads_one_file_of_a_stored_bundle(stored: tuple[DirectoryBundleStore, str]) -> None:
    store, digest = stored
    assert bundle_entry(store, digest, "index.html") == INDEX
    assert bundle_entry(store, digest, "/pages/bill.html") == b"<p>bill</p>"


def test_bundle_entry_is_none_for_a_missing_file_or_bundle(stored: tuple[DirectoryBundleStore, str]) -> None:
    store, digest = stored
    assert bundle_entry(store, digest, "nope.html") is None
    assert bundle_entry(store, "f" * 64, "index.html") is None


@pytest.mark.parametrize("path", ["../index.html", "pages/../../x", "pages/../index.html", "a\\b", "pages/"])
def test_bundle_entry_refuses_paths_that_could_traverse(
    stored: tuple[DirectoryBundleStore, str], path: str
) -> None:
    store, digest = stored
    with pytest.raises(BundleRejected) as caught:
        bundle_entry(store, digest, path)
    assert caught.value.code == BundleErrorCode.BUNDLE_PATH_UNSAFE


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("js/app.JS", "text/javascript; charset=utf-8"),
        ("icons/96.png", "image/png"),
        ("fonts/a.woff2", "font/woff2"),
        ("data.unknown", "application/octet-stream"),
        ("README", "application/octet-stream"),
    ],
)
def test_content_type_follows_the_file_extension(path: str, content_type: str) -> None:
    assert content_type_for(path) == content_type


@pytest.mark.parametrize(
    "page",
    [
        b"<html><script>alert(1)</script></html>",
        b"<html><SCRIPT type='text/javascript'>\n go() </SCRIPT></html>",
        b'<html><button onclick="pay()">Pay</button></html>',
        b"<html><a href='javascript:pay()'>Pay</a></html>",
    ],
    ids=["script", "typed-script", "handler", "javascript-url"],
)
def test_inline_script_the_sandbox_would_never_run_is_refused(page: bytes) -> None:
    assert rejection(make_zip({"index.html": page})) is BundleErrorCode.BUNDLE_INLINE_SCRIPT


def test_script_files_and_json_data_blocks_are_fine() -> None:
    page = (
        b'<html><script src=\'app.js\'></script><script type="application/json">{"a": 1}</script>'
        b'<script src="x.js" defer>\n</script><p>online now</p></html>'
    )
    check(make_zip({"index.html": page, "app.js": b"go()", "x.js": b""}))
