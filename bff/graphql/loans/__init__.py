"""GraphQL types of the loans domain."""
