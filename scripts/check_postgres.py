"""Exit 0 when the PostgreSQL server named by TRIANGULUM_TEST_POSTGRES_URL answers, else 1."""

import os
import sys

import psycopg

url = os.environ.get("TRIANGULUM_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
try:
    psycopg.connect(url, connect_timeout=3).close()
except psycopg.Error as error:
    print(f"PostgreSQL not reachable at {url}: {error}".strip(), file=sys.stderr)
    sys.exit(1)
