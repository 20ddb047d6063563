"""GraphQL types of the customer domain."""
