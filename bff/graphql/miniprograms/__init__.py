"""GraphQL types of the mini-program host."""
