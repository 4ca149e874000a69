"""Password hashing leaves the gevent loop: under monkey-patching scrypt runs on a native thread."""

import subprocess
import sys
import textwrap

from infra.offload import run_blocking

SCRIPT = textwrap.dedent("""
    from gevent import monkey; monkey.patch_all()
    import threading
    from contest.accounts.models import User
    from infra.offload import run_blocking

    main_thread = threading.get_native_id()
    ran_on = run_blocking(threading.get_native_id)
    user = User(phone="0912345678", full_name="A")
    user.set_password("mat-khau-1")
    print(main_thread != ran_on, user.check_password("mat-khau-1"), user.check_password("sai"))
""")


def test_without_gevent_the_call_is_direct():
    import threading

    assert run_blocking(threading.get_native_id) == threading.get_native_id()
    assert run_blocking(lambda a, b=0: a + b, 2, b=3) == 5


def test_under_gevent_scrypt_runs_on_another_native_thread():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "False"]
