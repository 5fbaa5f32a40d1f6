import io

from harness.pipeline.progress import Reporter


class TTY(io.StringIO):
    def isatty(self):
        return True


def test_tty_gets_progress_bars():
    stream = TTY()
    with Reporter(stream=stream) as rep:
        rep.overall("cells", 2)
        rep.cell("generate massive10/sw zero-shot", 80)
        rep.cell_progress(40, 80)
        rep.advance()
        rep.log("a message")
    out = stream.getvalue()
    assert rep.rich and "cells" in out and "generate massive10/sw zero-shot" in out and "a message" in out
    assert "━" in out or "\x1b[" in out


def test_no_progress_and_pipes_get_plain_lines():
    for enabled, stream in ((False, TTY()), (True, io.StringIO())):
        with Reporter(enabled=enabled, stream=stream) as rep:
            rep.overall("cells", 2)
            rep.cell_progress(1, 2)
            rep.log("scored x")
        lines = stream.getvalue().splitlines()
        assert not rep.rich and lines[-1].endswith("] scored x") and lines[0].endswith("cells: 2 to do")
        assert "\x1b[" not in stream.getvalue()
