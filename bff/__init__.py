"""Backend-for-frontend and mini-program host for a bank group's super-app."""
