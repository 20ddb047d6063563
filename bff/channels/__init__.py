"""The only code that speaks HTTP to the bank's downstream services."""
