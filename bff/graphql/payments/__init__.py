"""GraphQL types of the payments domain."""
