"""locust scenarios of the bank super-app's traffic; `loadtests/run` starts everything and checks the objectives."""
