"""Source addresses for simulated users: each its own loopback address (all of 127.0.0.0/8 is local on Linux).

nginx then sees as many client addresses as there are users, and the app (PROXY_HOPS=1) applies its per-address
limits as it would to real citizens: nothing is trusted or switched off for the load generator.
"""


def source_address(index: int) -> str:
    """The loopback address of simulated user `index` (1-based): 127.a.b.c with a, b, c in 1..254, one per user."""
    index -= 1
    return f"127.{1 + (index // (254 * 254)) % 254}.{1 + (index // 254) % 254}.{1 + index % 254}"
