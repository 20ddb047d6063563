"""Cross-channel customer journeys: definitions as data, a Redis store with atomic transitions, events."""
