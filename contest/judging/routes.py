"""Judge pages, exports and the public results page (thin: the work is in services, exports and stats)."""
