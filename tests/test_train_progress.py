"""The command line's progress text."""
from explorer.train.progress import Progress, Throttle, bar, format_duration, progress_line
from explorer.train.reports import StepReport


def test_duration_and_bar():
    assert format_duration(75) == "1:15" and format_duration(3725) == "1:02:05" and format_duration(-1) == "?"
    assert bar(0.5, 10) == "█████     " and bar(1.0, 10) == "█" * 10 and len(bar(0.33, 24)) == 24


def test_progress_line_has_loss_accuracy_speed_and_eta():
    line = progress_line(StepReport(2, 3, 30, 69, 7, 23, 0.41234, 0.8743, 0.05, 1234.5, 3.2, 72.0))
    assert "epoch 2/3" in line and "43%" in line and "loss 0.4123" in line and "87.4%" in line
    assert "1,234 samples/s" in line and "ETA 1:12" in line


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class FakeStream:
    def __init__(self, tty: bool):
        self.text, self._tty = "", tty

    def write(self, s):
        self.text += s

    def flush(self):
        pass

    def isatty(self):
        return self._tty


STEP = StepReport(1, 2, 10, 40, 10, 20, 0.5, 0.75, 0.05, 900.0, 1.0, 3.0)


def test_throttle_allows_one_line_per_interval():
    clock = FakeClock()
    t = Throttle(5.0, clock)
    assert not t.due()
    clock.now = 4.9
    assert not t.due()
    clock.now = 5.0
    assert t.due() and not t.due()
    clock.now = 9.9
    assert not t.due()
    clock.now = 10.0
    assert t.due()


def test_off_a_terminal_progress_is_plain_lines_at_a_modest_rate():
    clock, stream = FakeClock(), FakeStream(tty=False)
    p = Progress(stream, every_s=5.0, clock=clock)
    for i in range(100):  # 100 reports over 20 s of fake time: a line every 5 s, none redrawn
        clock.now = i * 0.2
        p.step(STEP)
    p.clear()
    lines = stream.text.splitlines()
    assert len(lines) == 3 and "\r" not in stream.text and "\033" not in stream.text
    assert lines[0] == "progress: epoch 1/2 step 10/40 (25%) loss 0.5000 acc 75.0% 900 samples/s ETA 0:03"


def test_on_a_terminal_progress_redraws_every_update():
    stream = FakeStream(tty=True)
    p = Progress(stream, clock=FakeClock())
    p.step(STEP)
    p.count("landscape points", 3, 9)
    p.clear()
    assert stream.text.count("\r") == 3 and "\n" not in stream.text
    assert "epoch 1/2" in stream.text and "landscape points" in stream.text and "3/9" in stream.text


def test_plain_count_line():
    clock, stream = FakeClock(), FakeStream(tty=False)
    p = Progress(stream, every_s=0, clock=clock)
    p.count("landscape points", 120, 441)
    assert stream.text == "progress: landscape points 120/441 (27%)\n"


def test_a_count_gives_an_eta_once_it_moves():
    """lesson run, study trials in a lesson, lesion and landscape counts: an ETA at the pace so far."""
    clock, stream = FakeClock(), FakeStream(tty=False)
    p = Progress(stream, every_s=0, clock=clock)
    p.count("study trials done", 0, 4)
    clock.now = 30.0
    p.count("study trials done", 1, 4)
    clock.now = 60.0
    p.count("study trials done", 4, 4)
    clock.now = 100.0
    p.count("study trials done", 0, 4)  # the same loop again: its own pace
    clock.now = 110.0
    p.count("study trials done", 2, 4)
    assert stream.text.splitlines() == ["progress: study trials done 0/4 (0%)",
                                        "progress: study trials done 1/4 (25%) ETA 1:30",
                                        "progress: study trials done 4/4 (100%)",
                                        "progress: study trials done 0/4 (0%)",
                                        "progress: study trials done 2/4 (50%) ETA 0:10"]
