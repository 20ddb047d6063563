"""GraphQL types of the messages domain."""
