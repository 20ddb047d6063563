"""Mini-program host: registry, lifecycle, signing, sandbox policy, bridge, consent."""
