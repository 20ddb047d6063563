"""The load test runner (`loadtests/run`, `bff loadtest`).

It starts what production runs (a private Redis, the simulated bank
services, N `bff serve` worker processes), drives them with the locust
scenarios in `loadtests/` for a bounded time, and checks the service-level
objectives of `loadtests/slo.toml` against locust's statistics. locust runs
as a separate process: gevent's monkey-patching never reaches this one.
"""
