"""GraphQL types of the accounts domain."""
