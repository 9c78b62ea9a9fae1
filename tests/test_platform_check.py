"""The check before Qt starts: which libraries are missing, which packages hold them."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from editor import platform_check


@pytest.mark.parametrize(("soname", "package"), [
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libdbus-1.so.3", "libdbus-1-3"),
    ("libEGL.so.1", "libegl1"),
    ("libGL.so.1", "libgl1"),
])
def test_debian_package_names(soname: str, package: str) -> None:
    assert platform_check.debian_package(soname) == package


@given(st.from_regex(r"lib[a-z][a-z0-9-]{0,12}", fullmatch=True), st.integers(0, 30))
def test_a_package_name_is_the_soname_base_and_major_version(base: str, major: int) -> None:
    package = platform_check.debian_package(f"{base}.so.{major}.2")
    assert package.startswith(base) and package.endswith(str(major))
    assert ".so" not in package
    # A base ending in a digit keeps the version apart, so libfoo2.so.3 is not libfoo23.
    assert package[len(base)] == "-" if base[-1].isdigit() else package == f"{base}{major}"


def test_missing_libraries_are_read_from_ldd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    fake = tmp_path / "ldd"
    fake.write_text("#!/bin/sh\ncat <<'X'\n\tlinux-vdso.so.1 (0x00007ffd)\n"
                    "\tlibxcb-icccm.so.4 => not found\n\tlibc.so.6 => /lib/libc.so.6 (0x7f)\n"
                    "\tlibxcb-keysyms.so.1 => not found\n\tlibxcb-icccm.so.4 => not found\nX\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert platform_check.missing_libraries(tmp_path / "plugin.so") == [
        "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_headless_platforms_need_no_check() -> None:
    assert platform_check.problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert platform_check.platform_name({"QT_QPA_PLATFORM": "xcb;wayland"}) == "xcb"
    assert platform_check.platform_name({"WAYLAND_DISPLAY": "wayland-0"}) == "wayland"
