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


def _fds(processes):
    total = 0
    for p in processes:
        try:
            total += p.num_fds()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
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
            sample = {"t": round(now - self._t0, 1), "epoch": time.time(), "processes": {}}
            for name, pid in list(self.pids.items()):
                tree = _tree(pid)
                cpu = _cpu_seconds(tree)
                last_cpu.setdefault(name, self._cpu0[name])
                sample["processes"][name] = {
                    "cpu_percent": round(100 * (cpu - last_cpu[name]) / max(now - last_t, 1e-6), 1),
                    "rss": _rss(tree),
                    "fds": _fds(tree),
                    "cpu_total": cpu,
                }
                last_cpu[name] = cpu
                self._seen_cpu[name] = max(self._seen_cpu.get(name, 0.0), cpu)
            sample["load_average"] = round(os.getloadavg()[0], 2)
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
                "cpu_seconds": round(cpu - self._cpu0[name], 2),
                "open_files_max": max((r.get("fds", 0) for r in rows), default=0),
                "cpu_percent_mean": round(100 * (cpu - self._cpu0[name]) / max(elapsed, 1e-6), 1),
                "cpu_percent_max": max((r["cpu_percent"] for r in rows), default=0.0),
                "rss_baseline_mib": round(self.baseline_rss[name] / 2**20, 1),
                "rss_peak_mib": round(max((r["rss"] for r in rows), default=self.baseline_rss[name]) / 2**20, 1),
            }
        return result

    @property
    def load_average_max(self) -> float:
        return max((s.get("load_average", 0.0) for s in self.samples), default=0.0)

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
        f"Generator exit code: {summary['locust_exit_code']}. Files: "
        + (
            "node-project.jsonl (10-s windows), node-bare.jsonl, summary.json."
            if p.get("generator") == "node"
            else "locust_stats.csv, locust_failures.csv, locust_stats_history.csv, locust.html, summary.json."
        ),
        "",
    ]
    return "\n".join(lines)


def write_summary(run_dir: Path, summary: dict):
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    (run_dir / "summary.md").write_text(render_markdown(summary) + render_extras(summary))


# --- the Node.js generator's statistics (loadtests/node/contestant.mjs) -----------------------------------------


def _hist_quantile(hist: dict[float, int], q: float) -> float:
    total = sum(hist.values())
    if not total:
        return 0.0
    seen = 0
    for bound in sorted(hist):
        seen += hist[bound]
        if seen >= q * total:
            return float(bound)
    return float(max(hist))


def read_node_stats(path, ramp_s: float = 0.0, window_s: float = 10.0) -> dict:
    """Windows of 10 s with ack quantiles (histogram bucket bounds, ms), the whole run's, errors by kind.

    `hold` covers the windows after the ramp (the first window that starts after ramp_s + one window of
    settling): its worst windowed p99 is the figure the capacity target is about.
    """
    windows, errors, users = [], {}, 0
    total: dict[float, int] = {}
    hold: dict[float, int] = {}
    hold_answers, hold_seconds = 0, 0.0
    path = Path(path)
    lines = path.read_text().splitlines() if path.exists() else []
    rows = [json.loads(line) for line in lines if line.strip()]
    hold_start = next((r["hold_start"] for r in rows if "hold_start" in r), None)
    rows = [r for r in rows if "hold_start" not in r]
    if hold_start is not None:  # the generator says when every contestant had joined
        ramp_s = hold_start - window_s
    else:  # until every contestant is connected, at least users / spawn rate
        peak = max((r.get("connected") or 0 for r in rows if not r.get("final")), default=0)
        ramp_end = next((r["t"] for r in rows if not r.get("final") and (r.get("connected") or 0) >= 0.99 * peak), 0)
        ramp_s = max(ramp_s, ramp_end - window_s)
    for row in rows:
        if row.get("final"):
            errors = row.get("errors") or {}
            users = max(users, int(row.get("users") or 0))
            continue
        hist = {float(k): int(v) for k, v in (row.get("hist") or {}).items()}
        for bound, n in hist.items():
            total[bound] = total.get(bound, 0) + n
        span = float(row.get("span") or window_s)  # the last window is cut short by the end of the run
        after_ramp = row["t"] - span >= ramp_s + window_s
        if after_ramp:
            for bound, n in hist.items():
                hold[bound] = hold.get(bound, 0) + n
            hold_answers += row["answers"]
            hold_seconds += span
        users = max(users, int(row.get("users") or 0))
        windows.append(
            {
                "t": row["t"],
                "at": row.get("at"),
                "span": span,
                "users": row.get("users"),
                "connected": row.get("connected"),
                "answers": row["answers"],
                "answers_per_s": round(row["answers"] / max(span, 1e-3), 1),
                "errors": row["errors"],
                "p50_ms": _hist_quantile(hist, 0.5),
                "p99_ms": _hist_quantile(hist, 0.99),
                "max_ms": max(hist) if hist else 0.0,
                "hold": after_ramp,
            }
        )
    count = sum(total.values())
    failures = sum(errors.values())
    # Windows shorter than 5 s (the run's last, cut short) are too noisy for a windowed quantile or rate.
    hold_windows = [w for w in windows if w["hold"] and w["answers"] and w["span"] >= 5]
    return {
        "hold_start_s": hold_start,
        "windows": windows,
        "errors": errors,
        "failures": failures,
        "peak_users": users,
        "peak_connected": max((w["connected"] or 0 for w in windows), default=0),
        "answer_ack": {
            "p50_ms": _hist_quantile(total, 0.5),
            "p95_ms": _hist_quantile(total, 0.95),
            "p99_ms": _hist_quantile(total, 0.99),
            "max_ms": max(total) if total else 0.0,
            "count": count,
            "failures": failures,
            "per_s": round(hold_answers / hold_seconds, 2) if hold_seconds else 0.0,
        },
        "hold": {
            "p50_ms": _hist_quantile(hold, 0.5),
            "p99_ms": _hist_quantile(hold, 0.99),
            "worst_window_p99_ms": max((w["p99_ms"] for w in hold_windows), default=0.0),
            "answers_per_s": round(hold_answers / hold_seconds, 1) if hold_seconds else 0.0,
            "peak_answers_per_s": max((w["answers_per_s"] for w in hold_windows), default=0.0),
        },
    }


def hold_cpu_per_answer(samples: list[dict], node: dict) -> dict:
    """CPU per answer in the hold phase only (logins and the ramp excluded): the sampled CPU seconds of each
    process between the first and last hold window's ends, over the answers acknowledged in between."""
    hold = [w for w in node["windows"] if w["hold"] and w.get("at")]
    if len(hold) < 2:
        return {}
    start, end = hold[0]["at"], hold[-1]["at"]
    answers = sum(w["answers"] for w in hold[1:])
    inside = [s for s in samples if start <= s.get("epoch", 0) <= end]
    if len(inside) < 2 or not answers:
        return {}
    first, last = inside[0], inside[-1]
    scale = (end - start) / max(last["epoch"] - first["epoch"], 1e-6)  # samples cover a little less than the span

    def cpu(names):
        return scale * sum(
            last["processes"][n]["cpu_total"] - first["processes"][n]["cpu_total"]
            for n in names
            if n in first["processes"] and n in last["processes"]
        )

    apps = [n for n in last["processes"] if n.startswith("app-")]
    out = {"answers": int(answers), "seconds": round(end - start, 1)}
    out["app_cpu_ms_per_answer"] = round(1000 * cpu(apps) / answers, 3)
    out["app_cpu_percent"] = round(100 * cpu(apps) / (end - start), 1)
    if "worker" in last["processes"]:
        out["worker_cpu_s_per_1000_answers"] = round(1000 * cpu(["worker"]) / answers, 3)
    if "generator" in last["processes"]:
        out["generator_cpu_ms_per_answer"] = round(1000 * cpu(["generator"]) / answers, 3)
        out["generator_cpu_percent"] = round(100 * cpu(["generator"]) / (end - start), 1)
    return out


def node_as_locust(stats: dict) -> dict:
    """The generator's figures in the shape build_summary reads from Locust's CSV."""
    ack = stats["answer_ack"]
    row = {
        "50%": ack["p50_ms"],
        "95%": ack["p95_ms"],
        "99%": ack["p99_ms"],
        "Max Response Time": ack["max_ms"],
        "Request Count": ack["count"],
        "Failure Count": ack["failures"],
        "Requests/s": ack["per_s"],
    }
    aggregated = {"Request Count": ack["count"], "Failure Count": ack["failures"], "Requests/s": ack["per_s"]}
    return {"rows": {"SIO answer ack": row, "Aggregated": aggregated}, "peak_users": stats["peak_users"]}


# --- garbage collection and CPU per answer ----------------------------------------------------------------------


def gc_view(metrics_urls) -> dict:
    """Per process: collections, total and worst pause per generation, full collections, frozen objects."""
    result = {}
    for url in metrics_urls:
        texts = scrape([url])
        if not texts:
            continue
        entry: dict = {"generations": {}}
        for family in text_string_to_metric_families(texts[0]):
            if family.name == "contest_gc_pause_seconds":
                for sample in family.samples:
                    gen = sample.labels.get("generation")
                    g = entry["generations"].setdefault(gen, {"count": 0, "seconds": 0.0, "max_le_ms": 0.0})
                    if sample.name.endswith("_count"):
                        g["count"] = int(sample.value)
                    elif sample.name.endswith("_sum"):
                        g["seconds"] = round(sample.value, 3)
            elif family.name == "contest_gc_full_collections":
                entry["full_collections"] = int(sum(s.value for s in family.samples if s.name.endswith("_total")))
            elif family.name == "contest_gc_frozen_objects":
                entry["frozen_objects"] = int(family.samples[0].value)
        for gen in entry["generations"]:
            q = histogram_quantiles(texts, "contest_gc_pause_seconds", {"generation": gen})
            entry["generations"][gen]["p99_le_ms"] = q["p99_le_ms"] if q else None
        result[url] = entry
    return result


def cpu_per_answer(processes: dict, answers: int) -> dict:
    """App CPU per answer (ms) and worker CPU per 1,000 answers (s), from the sampled CPU seconds."""
    if not answers:
        return {}
    app = sum(p.get("cpu_seconds", 0.0) for name, p in processes.items() if name.startswith("app-"))
    out = {"answers": answers, "app_cpu_ms_per_answer": round(1000 * app / answers, 3)}
    if "worker" in processes:
        out["worker_cpu_s_per_1000_answers"] = round(1000 * processes["worker"].get("cpu_seconds", 0.0) / answers, 3)
    if "generator" in processes:
        out["generator_cpu_ms_per_answer"] = round(1000 * processes["generator"].get("cpu_seconds", 0.0) / answers, 3)
    return out


def render_extras(summary: dict) -> str:
    """The node generator's windows, GC, CPU per answer and the bare app's ratio (appended to summary.md)."""
    lines = []
    gen = summary.get("node")
    if gen:
        hold = gen["hold"]
        lines += [
            "",
            "## Node generator: answer ack per 10-second window",
            "",
            f"After the ramp: p50 {hold['p50_ms']:.0f} ms, p99 {hold['p99_ms']:.0f} ms, worst window p99 "
            f"{hold['worst_window_p99_ms']:.0f} ms, {hold['answers_per_s']} answers/s (peak window "
            f"{hold['peak_answers_per_s']}). Errors: {gen['failures']} {json.dumps(gen['errors'], ensure_ascii=False)}.",
            "",
            "| t s | users | connected | answers/s | errors | p50 ms | p99 ms | max ms |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for w in gen["windows"]:
            lines.append(
                f"| {w['t']}{'' if w['hold'] else ' (ramp)'} | {w['users']} | {w['connected']} | {w['answers_per_s']} "
                f"| {w['errors']} | {w['p50_ms']:.0f} | {w['p99_ms']:.0f} | {w['max_ms']:.0f} |"
            )
    eff = summary.get("cpu_per_answer")
    hold_eff = summary.get("hold_cpu_per_answer")
    if hold_eff:
        lines += ["", "## CPU per answer after the ramp (logins excluded)", ""]
        lines.append(
            f"App CPU {hold_eff['app_cpu_ms_per_answer']} ms per answer ({hold_eff['app_cpu_percent']} % of a core)"
            + (
                f"; worker {hold_eff['worker_cpu_s_per_1000_answers']} s per 1,000 answers"
                if "worker_cpu_s_per_1000_answers" in hold_eff
                else ""
            )
            + (
                f"; generator {hold_eff['generator_cpu_ms_per_answer']} ms per answer "
                f"({hold_eff['generator_cpu_percent']} % of a core)"
                if "generator_cpu_ms_per_answer" in hold_eff
                else ""
            )
            + f" ({hold_eff['answers']} answers in {hold_eff['seconds']} s)."
        )
    if eff:
        lines += ["", "## CPU per answer over the whole run (logins included)", ""]
        lines.append(
            f"App CPU {eff['app_cpu_ms_per_answer']} ms per answer"
            + (
                f"; worker {eff['worker_cpu_s_per_1000_answers']} s of CPU per 1,000 answers"
                if "worker_cpu_s_per_1000_answers" in eff
                else ""
            )
            + (
                f"; generator {eff['generator_cpu_ms_per_answer']} ms per answer"
                if "generator_cpu_ms_per_answer" in eff
                else ""
            )
            + f" ({eff['answers']} answers)."
        )
    worker_lag = summary.get("worker_lag")
    if worker_lag:
        lines.append(
            f"Worker: batches of p50 <= {worker_lag['batch']['p50_le_ms'] / 1000:.0f} entries; lag from append to "
            f"commit p50 <= {worker_lag['lag']['p50_le_ms']} ms, p99 <= {worker_lag['lag']['p99_le_ms']} ms "
            f"({worker_lag['lag']['count']} batches)."
        )
    bare = summary.get("bare")
    if bare:
        lines += [
            "",
            "## The bare framework in the same run (loadtests/bare_app.py, same nginx and generator)",
            "",
            "| | project | bare | ratio |",
            "|---|---|---|---|",
        ]
        for key, label in (
            ("answers_per_s", "answers/s after the ramp"),
            ("peak_answers_per_s", "peak window answers/s"),
            ("app_cpu_ms_per_answer", "app CPU ms per answer"),
            ("p99_ms", "ack p99 ms after the ramp"),
            ("worst_window_p99_ms", "worst window p99 ms"),
        ):
            mine, theirs = bare["project"].get(key), bare["bare"].get(key)
            ratio = round(mine / theirs, 2) if mine and theirs else "-"
            lines.append(f"| {label} | {mine} | {theirs} | {ratio} |")
    gcs = summary.get("gc")
    if gcs:
        lines += [
            "",
            "## Garbage collection per process (contest_gc_* on /metrics)",
            "",
            "| process | generation | collections | total pause s | p99 pause <= ms | full collections | frozen |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, entry in gcs.items():
            for gen, g in sorted(entry["generations"].items()):
                lines.append(
                    f"| {name} | {gen} | {g['count']} | {g['seconds']} | {g['p99_le_ms']} | "
                    f"{entry.get('full_collections', '-')} | {entry.get('frozen_objects', '-')} |"
                )
    procs = summary.get("processes") or {}
    if procs:
        lines += [
            "",
            "Open files (max sampled): " + ", ".join(f"{n} {p.get('open_files_max')}" for n, p in procs.items()),
        ]
    if summary.get("load_average_max") is not None:
        lines.append(f"Load average (1 min) max during the run: {summary['load_average_max']}.")
    return "\n".join(lines) + "\n"
