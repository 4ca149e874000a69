"""The pusher's pacing: at most once a second, slower when the process's message budget needs it."""

from realtime.pusher import next_delay


def test_small_audiences_get_a_board_a_second():
    assert next_delay(0, 2000) == 1.0
    assert next_delay(1999, 2000) == 1.0


def test_large_audiences_wait_in_proportion_to_the_frames_sent():
    assert next_delay(6000, 2000) == 3.0
    assert next_delay(10, 0) == 10.0  # a zero budget is treated as one message a second, not a crash
