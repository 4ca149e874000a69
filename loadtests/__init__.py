"""Load tests: Locust scenarios, the production-like stack they run against, and the report."""
