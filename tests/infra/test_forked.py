"""infra.forked: a child process writes a part of a text to a file; the caller gets it whole, or an error."""

import os
import time

import pytest

from infra.forked import ForkedPart, ForkedPartError, can_fork


def test_the_childs_text_comes_back_whole_and_its_file_is_removed():
    assert can_fork()  # tests are not monkey-patched by gevent
    parent = os.getpid()

    def write(out):
        out.write(f"{os.getpid() != parent}\r\n")  # written by another process
        for i in range(200_000):
            out.write(f"dòng {i}\r\n")

    with ForkedPart(write) as part:
        text = "".join(part.chunks())
        path = part.path
    assert text == "True\r\n" + "".join(f"dòng {i}\r\n" for i in range(200_000))
    assert not os.path.exists(path)


def test_a_failing_child_is_an_error_not_a_short_text():
    def write(out):
        out.write("một nửa\r\n")
        raise ValueError("hỏng")

    with ForkedPart(write) as part, pytest.raises(ForkedPartError, match="code 1"):
        list(part.chunks())
    assert not os.path.exists(part.path)


def test_closing_early_stops_a_child_that_is_still_writing():
    def write(out):
        while True:
            out.write("x" * 1000)
            time.sleep(0.01)

    part = ForkedPart(write)
    assert part.process.is_alive()
    started = time.monotonic()
    part.close()
    assert time.monotonic() - started < 5
    assert not os.path.exists(part.path)
