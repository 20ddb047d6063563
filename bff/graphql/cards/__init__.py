"""GraphQL types of the cards domain."""
