"""The PostgreSQL archive: the same tables and meaning as SQLite's, through psycopg 3 and a pool."""
