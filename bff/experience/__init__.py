"""Experience profiles per customer segment: the profile format, segment rules, loading and resolution."""
