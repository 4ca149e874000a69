"""The run's report: process CPU/RSS sampling, Locust CSV parsing, summary.md and summary.json."""

import csv
import json
import os
import threading
import time
from pathlib import Path

import psutil
import requests
from prometheus_client.parser import text_string_to_metric_families


def _tree(pid):
    """A process and its children (nginx and PostgreSQL work in children)."""
    try:
        process = psutil.Process(pid)
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _cpu_seconds(processes):
    total = 0.0
    for p in processes:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _rss(processes):
    total = 0
    for p in processes:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def connected_contestants(metrics_urls) -> float:
    """Socket.IO connections held, summed over every app process."""
    return sum(
        sum(s.value for s in family.samples)
        for text in scrape(metrics_urls, timeout=2)
        for family in text_string_to_metric_families(text)
        if family.name == "contest_socketio_connections"
    )


# The stack's METRICS_TOKEN (production requires one): run.py sets it before the first scrape.
METRICS_HEADERS: dict[str, str] = {}


def use_metrics_token(token: str | None) -> None:
    METRICS_HEADERS.clear()
    if token:
        METRICS_HEADERS["Authorization"] = f"Bearer {token}"


def scrape(metrics_urls, timeout=5) -> list[str]:
    """The /metrics text of every app process that answers."""
    texts = []
    for url in metrics_urls:
        try:
            response = requests.get(url, timeout=timeout, headers=METRICS_HEADERS)
            if response.status_code == 200:
                texts.append(response.text)
        except requests.RequestException:
            continue
    return texts


def histogram_quantiles(texts, family_name, match=None) -> dict | None:
    """Quantiles of one histogram summed over every app process's scrape, as bucket upper bounds
    ("p99 <= X ms"); `match` keeps only samples with those label values."""
    buckets: dict[float, float] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            if family.name != family_name:
                continue
            for sample in family.samples:
                if not sample.name.endswith("_bucket"):
                    continue
                if any(sample.labels.get(k) != v for k, v in (match or {}).items()):
                    continue
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    total = buckets.get(float("inf"), 0.0)
    if not total:
        return None

    def quantile(q):
        for bound in sorted(buckets):
            if buckets[bound] >= q * total:
                return None if bound == float("inf") else round(bound * 1000, 1)
        return None

    return {"count": int(total), "p50_le_ms": quantile(0.5), "p95_le_ms": quantile(0.95), "p99_le_ms": quantile(0.99)}


def server_view(metrics_urls) -> dict:
    """The servers' own timings at the end of a run: answer ack (receive to ack), page requests by
    endpoint and the wait at the admission gate. Beside Locust's client-side times they separate
    server latency from load-generator lag on a machine Locust shares."""
    texts = scrape(metrics_urls)
    endpoints = set()
    for text in texts:
        for family in text_string_to_metric_families(text):
            if family.name == "contest_http_request_seconds":
                endpoints |= {s.labels["endpoint"] for s in family.samples if "endpoint" in s.labels}
    return {
        "answer_ack": histogram_quantiles(texts, "contest_answer_ack_seconds"),
        "gate_wait": histogram_quantiles(texts, "contest_http_gate_wait_seconds"),
        "pages": {
            e: histogram_quantiles(texts, "contest_http_request_seconds", {"endpoint": e}) for e in sorted(endpoints)
        },
    }


class ProcessSampler:
    """Samples CPU and RSS of the named server processes (and their children) every `interval` s."""

    def __init__(self, pids: dict[str, int], metrics_urls=(), interval: float = 2.0):
        self.pids = pids
        self.metrics_urls = list(metrics_urls)
        self.interval = interval
        self.samples: list[dict] = []
        self.baseline_rss = {name: _rss(_tree(pid)) for name, pid in pids.items()}
        self._cpu0 = {name: _cpu_seconds(_tree(pid)) for name, pid in pids.items()}
        self._t0 = time.monotonic()
        self._added_at: dict[str, float] = {}  # processes sampled from later than the start
        self._seen_cpu: dict[str, float] = {}  # cumulative CPU last seen: a process may be gone at stop()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def add(self, name: str, pid: int):
        """Samples one more process from now on (Locust, started after the stack)."""
        self.baseline_rss[name] = _rss(_tree(pid))
        self._cpu0[name] = _cpu_seconds(_tree(pid))
        self._added_at[name] = time.monotonic()
        self.pids = {**self.pids, name: pid}

    def _loop(self):
        last_cpu, last_t = dict(self._cpu0), time.monotonic()
        while not self._stop.wait(self.interval):
            now = time.monotonic()
            sample = {"t": round(now - self._t0, 1), "processes": {}}
            for name, pid in list(self.pids.items()):
                tree = _tree(pid)
                cpu = _cpu_seconds(tree)
                last_cpu.setdefault(name, self._cpu0[name])
                sample["processes"][name] = {
                    "cpu_percent": round(100 * (cpu - last_cpu[name]) / max(now - last_t, 1e-6), 1),
                    "rss": _rss(tree),
                }
                last_cpu[name] = cpu
                self._seen_cpu[name] = max(self._seen_cpu.get(name, 0.0), cpu)
            if self.metrics_urls:
                sample["connected"] = connected_contestants(self.metrics_urls)
            last_t = now
            self.samples.append(sample)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(timeout=10)
        result = {}
        for name, pid in self.pids.items():
            elapsed = time.monotonic() - self._added_at.get(name, self._t0)
            rows = [s["processes"][name] for s in self.samples if name in s["processes"]]
            cpu = max(_cpu_seconds(_tree(pid)), self._seen_cpu.get(name, 0.0))
            result[name] = {
                "cpu_percent_mean": round(100 * (cpu - self._cpu0[name]) / max(elapsed, 1e-6), 1),
                "cpu_percent_max": max((r["cpu_percent"] for r in rows), default=0.0),
                "rss_baseline_mib": round(self.baseline_rss[name] / 2**20, 1),
                "rss_peak_mib": round(max((r["rss"] for r in rows), default=self.baseline_rss[name]) / 2**20, 1),
            }
        return result

    @property
    def peak_connected(self) -> float:
        return max((s.get("connected", 0) for s in self.samples), default=0)


def read_locust_stats(csv_prefix) -> dict:
    """Rows of <prefix>_stats.csv keyed by "Type Name", plus the users Locust held at its peak."""
    stats = {}
    path = Path(f"{csv_prefix}_stats.csv")
    if path.exists():
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                stats[f"{row['Type']} {row['Name']}".strip()] = row
    peak_users = 0
    history = Path(f"{csv_prefix}_stats_history.csv")
    if history.exists():
        with history.open(newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    peak_users = max(peak_users, int(float(row.get("User Count") or 0)))
                except ValueError:
                    pass
    return {"rows": stats, "peak_users": peak_users}


def capacity_curve(csv_prefix, name="SIO answer ack", target_ms=250.0, bucket=500) -> dict:
    """Answer-ack p99 as the user count grows, from Locust's full history (10-second windows).

    Returns the worst windowed p99 and the answers per second per bucket of `bucket` users, and
    `capacity_users`: the most users reached before p99 went over the target in two consecutive
    windows (one slow window alone may be noise) or any request failed. A slow ramp to more users than the machine holds thus gives the
    capacity in one run.
    """
    history = Path(f"{csv_prefix}_stats_history.csv")
    buckets: dict[int, dict] = {}
    capacity, broken, slow_before = 0, None, False
    failures_seen = 0
    by_time: dict[str, dict] = {}  # timestamp -> {"answer": row, "failures": n}
    if history.exists():
        with history.open(newline="") as fh:
            for row in csv.DictReader(fh):
                tick = by_time.setdefault(row.get("Timestamp", ""), {})
                if row.get("Name") == "Aggregated":
                    tick["failures"] = _num(row, "Total Failure Count", int)
                elif f"{row.get('Type', '')} {row.get('Name', '')}".strip() == name:
                    tick["answer"] = row
    for tick in by_time.values():  # in file order, i.e. time order
        failures_seen = max(failures_seen, tick.get("failures", 0))
        row = tick.get("answer")
        if row is None or row.get("99%") in (None, "", "N/A"):
            continue
        users = _num(row, "User Count", int)
        p99 = _num(row, "99%")
        entry = buckets.setdefault(users // bucket * bucket, {"p99_ms_worst": 0.0, "answers_per_s": 0.0})
        entry["p99_ms_worst"] = max(entry["p99_ms_worst"], p99)
        entry["answers_per_s"] = round(max(entry["answers_per_s"], _num(row, "Requests/s")), 1)
        if broken is None:
            if failures_seen or (p99 > target_ms and slow_before):
                broken = {"users": users, "p99_ms": p99, "failures": failures_seen}
            elif p99 > target_ms:
                slow_before = True  # one slow window may be noise (a 10-s window can hold few samples); two are not
            else:
                slow_before = False
                capacity = max(capacity, users)
    return {
        "target_p99_ms": target_ms,
        "capacity_users": capacity,
        "first_breach": broken,
        "by_users": {k: buckets[k] for k in sorted(buckets)},
    }


def _num(row, column, cast=float):
    try:
        return cast(float(row.get(column) or 0))
    except (TypeError, ValueError):
        return cast(0)


def latency(row) -> dict:
    return {
        "p50_ms": _num(row, "50%"),
        "p95_ms": _num(row, "95%"),
        "p99_ms": _num(row, "99%"),
        "max_ms": _num(row, "Max Response Time"),
        "count": _num(row, "Request Count", int),
        "failures": _num(row, "Failure Count", int),
        "per_s": round(_num(row, "Requests/s"), 2),
    }


def build_summary(
    params: dict,
    locust: dict,
    processes: dict,
    answers: dict,
    peak_connected: float,
    limits: dict,
    locust_exit: int,
    curve: dict | None = None,
    server: dict | None = None,
) -> dict:
    rows = locust["rows"]
    total = rows.get("Aggregated", {})
    answer_row = rows.get("SIO answer ack")
    # A server clock in the push gives its own latency; otherwise: submit ack -> the contestant's rank push.
    push_row = rows.get("SIO leaderboard push") or rows.get("SIO rank push after submit")
    submit_row = rows.get("SIO submit ack")
    held = int(peak_connected) or locust["peak_users"]
    app_rss_growth = sum(
        max(p["rss_peak_mib"] - p["rss_baseline_mib"], 0) for name, p in processes.items() if name.startswith("app-")
    )
    return {
        "params": params,
        "users_held": held,
        "locust_peak_users": locust["peak_users"],
        "server_connected_peak": peak_connected,
        "requests": _num(total, "Request Count", int),
        "failures": _num(total, "Failure Count", int),
        "requests_per_s": round(_num(total, "Requests/s"), 1),
        "answers_per_s": latency(answer_row)["per_s"] if answer_row else 0.0,
        "answer_ack": latency(answer_row) if answer_row else None,
        "server_answer_ack": (server or {}).get("answer_ack"),
        "server": server,
        "submit_ack": latency(submit_row) if submit_row else None,
        "push": latency(push_row) if push_row else None,
        "endpoints": {name: latency(row) for name, row in rows.items() if name != "Aggregated"},
        "processes": processes,
        "app_memory_per_held_user_kib": round(app_rss_growth * 1024 / held, 1) if held else None,
        "answers": answers,
        "kernel_limits": limits,
        # The machine may be shared: a high load average explains tails that the stack did not cause.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "locust_exit_code": locust_exit,
        "capacity": curve,
    }


def _fmt_latency(entry):
    if not entry:
        return "not measured in this scenario"
    return (
        f"p50 {entry['p50_ms']:.0f} ms, p95 {entry['p95_ms']:.0f} ms, p99 {entry['p99_ms']:.0f} ms "
        f"(max {entry['max_ms']:.0f} ms, {entry['count']} samples, {entry['failures']} failures)"
    )


def _fmt_server(entry):
    if not entry:
        return "not measured"
    return (
        f"p50 <= {entry['p50_le_ms']} ms, p95 <= {entry['p95_le_ms']} ms, p99 <= {entry['p99_le_ms']} ms "
        f"({entry['count']} answers, histogram buckets)"
    )


def security_line(security: dict | None) -> str:
    """What protected the app during the run: the proxy setting and the limits in force (none switched off)."""
    if not security:
        return "Security settings: not recorded."
    exempt = security.get("ratelimit_exempt_addresses") or "none"
    return (
        f"Security settings: PROXY_HOPS={security['proxy_hops']} (nginx appends X-Forwarded-For); rate limits "
        f"{'on' if security['ratelimit_enabled'] else 'OFF'}: login {security['login_rate_limit']}, registration "
        f"{security['register_rate_limit']} per client address, per-account lock {security['account_lock']}; "
        f"addresses exempt from limits: {exempt}; simulated users "
        + (
            "each from their own loopback source address."
            if security.get("spread_source_addresses")
            else "all from 127.0.0.1 (LOADTEST_SPREAD_ADDRESSES=0)."
        )
        + (
            " Plain HTTP on loopback (ALLOW_PLAIN_HTTP=1: cookies without Secure, no HSTS)."
            if security.get("plain_http")
            else ""
        )
    )


def render_markdown(summary: dict) -> str:
    p = summary["params"]
    a = summary["answers"]
    lines = [
        f"# Load test {p.get('started_at', '')}",
        "",
        f"Scenario `{p['scenario']}`, {p['users']} users (spawn rate {p['spawn_rate']}/s) for {p['duration']}, "
        f"{p['procs']} app processes behind nginx, database {p['db']}, Locust processes {p['locust_procs']}.",
        f"Think time between answers {p.get('think_s', '2,6')} s"
        + (f"; round {p['round_id']}: {p['questions']} questions, {p['minutes']} min" if p.get("questions") else "")
        + ("; accounts seeded with the light scrypt hash (logins measured separately)" if p.get("light_hash") else "")
        + ".",
        security_line(p.get("security")),
        "",
        "| measure | value |",
        "|---|---|",
        f"| users held (server gauge, else Locust) | {summary['users_held']} |",
        f"| requests / failures | {summary['requests']} / {summary['failures']} |",
        f"| requests per second | {summary['requests_per_s']} |",
        f"| answers per second | {summary['answers_per_s']} |",
        f"| answer ack | {_fmt_latency(summary['answer_ack'])} |",
        f"| answer ack, server side (receive to ack) | {_fmt_server(summary.get('server_answer_ack'))} |",
        f"| submit ack | {_fmt_latency(summary['submit_ack'])} |",
        f"| leaderboard push latency | {_fmt_latency(summary['push'])} |",
        f"| app memory per held user | {summary['app_memory_per_held_user_kib']} KiB |",
        f"| lost answers | {a['lost']} of {a['acknowledged']} acknowledged ({a['stored']} rows in SQL, "
        f"{a['unacknowledged']} stored without a seen ack) |",
        "",
        "## Endpoints",
        "",
        "| request | count | failures | per s | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, e in sorted(summary["endpoints"].items()):
        lines.append(
            f"| {name} | {e['count']} | {e['failures']} | {e['per_s']} | {e['p50_ms']:.0f} | "
            f"{e['p95_ms']:.0f} | {e['p99_ms']:.0f} | {e['max_ms']:.0f} |"
        )
    curve = summary.get("capacity")
    if curve and curve["by_users"]:
        breach = curve["first_breach"]
        lines += [
            "",
            "## Answer-ack p99 as users grow (Locust 10-second windows)",
            "",
            f"Capacity at p99 < {curve['target_p99_ms']:.0f} ms with no failure: **{curve['capacity_users']} users**"
            + (
                f" (first breach at {breach['users']} users: p99 {breach['p99_ms']:.0f} ms, "
                f"{breach['failures']} failures so far)."
                if breach
                else " (never breached)."
            ),
            "",
            "| users | worst windowed p99 ms | answers/s |",
            "|---|---|---|",
        ]
        for users, entry in curve["by_users"].items():
            lines.append(f"| {users}+ | {entry['p99_ms_worst']:.0f} | {entry['answers_per_s']} |")
    server = summary.get("server") or {}
    if server.get("pages"):
        lines += [
            "",
            "## Server-side page times (inside the app, after the admission gate)",
            "",
            f"Wait at the admission gate: {_fmt_server(server.get('gate_wait'))}.",
            "",
            "| endpoint | count | p50 <= ms | p95 <= ms | p99 <= ms |",
            "|---|---|---|---|---|",
        ]
        for endpoint, q in server["pages"].items():
            if q:
                lines.append(f"| {endpoint} | {q['count']} | {q['p50_le_ms']} | {q['p95_le_ms']} | {q['p99_le_ms']} |")
    lines += [
        "",
        "## Server processes",
        "",
        "| process | CPU mean % | CPU max % | RSS before MiB | RSS peak MiB |",
        "|---|---|---|---|---|",
    ]
    for name, proc in summary["processes"].items():
        lines.append(
            f"| {name} | {proc['cpu_percent_mean']} | {proc['cpu_percent_max']} | "
            f"{proc['rss_baseline_mib']} | {proc['rss_peak_mib']} |"
        )
    lines += [
        "",
        "Kernel limits: " + ", ".join(f"{k}={v}" for k, v in summary["kernel_limits"].items()),
        f"Load average at the end (1, 5, 15 min): {summary.get('load_average')} on {summary.get('cpu_count')} CPUs.",
        f"Locust exit code: {summary['locust_exit_code']}. Files: locust_stats.csv, locust_failures.csv, "
        "locust_stats_history.csv, locust.html, summary.json.",
        "",
    ]
    return "\n".join(lines)


def write_summary(run_dir: Path, summary: dict):
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    (run_dir / "summary.md").write_text(render_markdown(summary))
