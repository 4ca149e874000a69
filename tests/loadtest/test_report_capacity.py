"""The capacity read from one slow ramp: the most users held before answer-ack p99 first broke the target."""

import csv

from loadtests.report import capacity_curve

COLUMNS = [
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    "50%",
    "66%",
    "75%",
    "80%",
    "90%",
    "95%",
    "98%",
    "99%",
    "99.9%",
    "99.99%",
    "100%",
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
]


def write_history(path, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for ts, (users, p99, rate, failures) in enumerate(rows):
            writer.writerow(
                {
                    "Timestamp": ts,
                    "User Count": users,
                    "Type": "SIO",
                    "Name": "answer ack",
                    "Requests/s": rate,
                    "99%": p99 if p99 is not None else "N/A",
                }
            )
            writer.writerow(
                {
                    "Timestamp": ts,
                    "User Count": users,
                    "Type": "",
                    "Name": "Aggregated",
                    "Total Failure Count": failures,
                }
            )


def test_capacity_is_the_last_user_count_before_the_first_breach(tmp_path):
    write_history(
        tmp_path / "locust_stats_history.csv",
        [
            (100, None, 0, 0),
            (400, 40, 10, 0),
            (900, 120, 30, 0),
            (1400, 240, 45, 0),
            (1500, 900, 50, 0),  # one slow window alone is not a breach
            (1600, 200, 50, 0),
            (1900, 310, 60, 0),  # two windows above 250 ms in a row: the breach
            (2000, 320, 61, 0),
            (2100, 200, 62, 0),  # recovering later does not raise the capacity
        ],
    )
    curve = capacity_curve(tmp_path / "locust")
    assert curve["capacity_users"] == 1600
    assert curve["first_breach"] == {"users": 2000, "p99_ms": 320.0, "failures": 0}
    assert curve["by_users"][1500] == {"p99_ms_worst": 900.0, "answers_per_s": 60.0}
    assert curve["by_users"][2000] == {"p99_ms_worst": 320.0, "answers_per_s": 62.0}


def test_a_failure_ends_the_capacity_even_with_fast_acks(tmp_path):
    write_history(tmp_path / "locust_stats_history.csv", [(500, 20, 10, 0), (1000, 30, 20, 1), (1500, 30, 30, 1)])
    curve = capacity_curve(tmp_path / "locust")
    assert curve["capacity_users"] == 500 and curve["first_breach"]["failures"] == 1


def test_no_history_gives_an_empty_curve(tmp_path):
    assert capacity_curve(tmp_path / "missing") == {
        "target_p99_ms": 250.0,
        "capacity_users": 0,
        "first_breach": None,
        "by_users": {},
    }
