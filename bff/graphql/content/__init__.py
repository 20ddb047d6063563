"""GraphQL types of the content domain."""
