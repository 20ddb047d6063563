"""GraphQL types of the wealth domain."""
