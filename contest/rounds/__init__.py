"""Contests, rounds and attempts: the contest domain (knows nothing of Socket.IO)."""
