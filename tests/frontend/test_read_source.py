"""read_source reads a spec file in pieces (of about its size) up to MAX_SOURCE_BYTES: the text
whole, however the system splits the reads, and a file past the limit refused."""
from __future__ import annotations

import os

import pytest

import archc.frontend as frontend
from archc.errors import SpecErrors

TEXT = "model M\ninput x: [N, 3, 8, 8]\n# é\noutput y = x -> conv2d(4, 3)\n"


def test_the_text_is_read_whole(tmp_path):
    path = tmp_path / "m.arch"
    path.write_text(TEXT, encoding="utf-8")
    assert frontend.read_source(path) == TEXT


def test_short_reads_are_joined(tmp_path, monkeypatch):
    path = tmp_path / "m.arch"
    path.write_text(TEXT * 50, encoding="utf-8")
    read = os.read
    monkeypatch.setattr(frontend.os, "read", lambda fd, n: read(fd, min(n, 7)))  # 7 bytes at most per call
    assert frontend.read_source(path) == TEXT * 50


@pytest.mark.parametrize("short_reads", [False, True])
def test_the_limit_is_exact(tmp_path, monkeypatch, short_reads):
    monkeypatch.setattr(frontend, "MAX_SOURCE_BYTES", 100)
    if short_reads:
        read = os.read
        monkeypatch.setattr(frontend.os, "read", lambda fd, n: read(fd, min(n, 7)))
    fits, past = tmp_path / "fits.arch", tmp_path / "past.arch"
    fits.write_bytes(b"#" * 99 + b"\n")
    past.write_bytes(b"#" * 100 + b"\n")
    assert frontend.read_source(fits) == "#" * 99 + "\n"
    with pytest.raises(SpecErrors) as info:
        frontend.read_source(past)
    assert info.value.errors[0].code == "E-FILE-TOO-LARGE"
