"""Run the whole Nexus platform on this machine: `make dev` (`uv run python -m scripts.devstack`).

What it does, in order (one module per concern):

1. Environment (processes.build_env, secretfile). Every variable below is filled in ONLY when it
   is not already set (an empty value counts as not set), so any of them can point at something
   real:
   - secrets (`INTERNAL_API_TOKEN`, `ADMIN_TOKEN`, `ENCRYPTION_KEY`) are generated once and kept in
     `.dev/secrets.env` (mode 0600), then reused;
   - `NEXUS_ENV=development`, `DATA_DIR=.dev/data`, `NEXUS_MIGRATIONS_DIR=<repo>/migrations`, and
     every service URL pointing at 127.0.0.1 on its (offset) port.
2. Postgres (postgres): `POSTGRES_DSN` if set and reachable; else the machine's server on
   127.0.0.1:5432 (database `nexus_dev`, created if missing); else an embedded server under
   `.dev/pgdata/pg<major>`, stopped again on exit.
3. Redis (redis_local): `REDIS_URL` if set; else redis://127.0.0.1:6379/0 if it answers PING;
   else none (the platform runs degraded).
4. Starts every process of processes.PROCESSES, opt-in ones only when asked (supervisor: each in
   its own process group, its output written to `.dev/logs/<name>.log` and shown in the terminal
   prefixed by its name), waits until every readiness URL answers 200, runs the seed steps (seed:
   a step that needs a fake whose URL variable points elsewhere is skipped with one line; a
   failing step says what failed and the platform keeps running), prints the URLs and who
   answers, and stays in the foreground until Ctrl-C / SIGTERM, then stops everything it started
   (cli).

Who answers: by default Nexus's own offline responder (no LLM key needed; it sells from the
catalog); a real model when OPENAI_API_KEY (plus OPENAI_BASE_URL for any compatible server) or
ANTHROPIC_API_KEY is set; the scripted fake OpenAI server only with `--fake-openai` (a test double:
`make dev ARGS=--fake-openai`). The final banner says which.

Options: `--check` (start, wait for ready, seed, stop; exit 0 only when nothing failed: for tests
and CI), `--fake-openai` (above), `--port-offset N` (or NEXUS_DEV_PORT_OFFSET) to shift every
port, `--timeout S` (readiness, default 90), `--quiet` (logs to files only), `--reset-db` (drop
and recreate `nexus_dev` first, e.g. after a migration was rewritten; never touches the database
of a POSTGRES_DSN you set).

Knobs (environment, mostly for tests):
  NEXUS_DEV_DIR           state directory instead of <repo>/.dev (secrets, logs, data, pgdata)
  NEXUS_DEV_PORT_OFFSET   same as --port-offset
  NEXUS_DEV_LOCAL_PG      host:port of the "machine's own" Postgres (default 127.0.0.1:5432);
                          point it at a closed port (127.0.0.1:1) to force the embedded fallback
  NEXUS_DEV_LOCAL_REDIS   host:port of the "machine's own" Redis (default 127.0.0.1:6379);
                          point it at a closed port to run without Redis
  NEXUS_DEV_DEBUG=1       print a traceback on unexpected errors

Adding a process (a fake server) is one `Proc(...)` entry in processes.PROCESSES; adding a seed
step is one `Step(...)` entry in seed.SEED_STEPS.
"""
