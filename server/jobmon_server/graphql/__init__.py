"""The GraphQL schema: thin types over the domain functions."""
