"""The contest domain: accounts, units, contests and rounds, attempts, judging, the audit log,
and the pages of each. Its code knows nothing of Socket.IO (`realtime` sits above it)."""
