"""An in-process sampling profiler for when py-spy cannot attach (a sandbox without /proc/<pid>/maps).

`kill -USR2 <pid>` starts sampling the running Python stack on CPU time (ITIMER_PROF, so an idle event loop
costs no samples); a second `kill -USR2` stops it and writes `profile-<pid>.txt` in the directory given at
install, as collapsed stacks ("outer;...;inner count", the format of `py-spy record -f raw`), which
`python -m loadtests.profile_top` summarises. Installed by `server.serve`, the worker and the bare app only when
CONTEST_PROFILE_DIR is set (`make loadtest ... PROFILE=60` does it).
"""

import os
import signal
from collections import Counter
from pathlib import Path


class SignalSampler:
    def __init__(self, out_dir: str | os.PathLike, hz: int = 200):
        self.out_dir = Path(out_dir)
        self.interval = 1.0 / hz
        self.samples: Counter = Counter()
        self.running = False

    def install(self) -> "SignalSampler":
        signal.signal(signal.SIGUSR2, self._toggle)
        signal.signal(signal.SIGPROF, self._sample)
        return self

    def _toggle(self, signum, frame):
        if not self.running:
            self.samples.clear()
            self.running = True
            signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
            return
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        self.running = False
        self.dump()

    def _sample(self, signum, frame):
        stack = []
        while frame is not None:
            code = frame.f_code
            stack.append(f"{code.co_name} ({code.co_filename.rsplit('/', 1)[-1]})")
            frame = frame.f_back
        self.samples[";".join(reversed(stack))] += 1

    def dump(self) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"profile-{os.getpid()}.txt"
        path.write_text("".join(f"{stack} {n}\n" for stack, n in self.samples.most_common()))
        return path


def install_from_environment() -> SignalSampler | None:
    out_dir = os.environ.get("CONTEST_PROFILE_DIR")
    return SignalSampler(out_dir).install() if out_dir else None
