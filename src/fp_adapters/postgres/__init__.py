"""PostgreSQL (psycopg 3): versioned migrations and the append-only truth stores."""
