-- The registry: one row per installed portal, keyed by member_id (a portal keeps it when renamed).
-- Secrets (tokens) live only here and in memory; never in logs.
CREATE TABLE portal (
    member_id          TEXT PRIMARY KEY,
    domain             TEXT NOT NULL,              -- host the portal last reported (display only)
    endpoint           TEXT NOT NULL,              -- where we call: client_endpoint from the OAuth server
    db_file            TEXT NOT NULL UNIQUE,       -- this portal's own database, under the data directory
    application_token  TEXT,                       -- checked on every callback, page and event
    access_token       TEXT,
    refresh_token      TEXT,
    access_expires_at  INTEGER NOT NULL DEFAULT 0, -- unix seconds
    token_user_id      INTEGER NOT NULL DEFAULT 0, -- the admin whose token background work uses
    scope              TEXT NOT NULL DEFAULT '',
    app_status         TEXT NOT NULL DEFAULT '',   -- L F D T P, informational
    plan               TEXT NOT NULL DEFAULT 'standard',   -- standard | enterprise (rate limits)
    lang               TEXT NOT NULL DEFAULT 'en',
    install_finished   INTEGER NOT NULL DEFAULT 0, -- the install page has been completed
    state              TEXT NOT NULL DEFAULT 'installing', -- installing | active | blocked
    block_code         TEXT,                       -- reinstall_needed | payment_required | ...
    block_message      TEXT,
    active_months      INTEGER NOT NULL DEFAULT 6,
    lost_months        INTEGER NOT NULL DEFAULT 18,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- Runs asked for by the operator CLI (`b24seg sync <member_id>` without --wait); the server's job
-- runner picks them up.
CREATE TABLE job_request (
    id            INTEGER PRIMARY KEY,
    member_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,               -- incremental | full | recompute
    requested_at  INTEGER NOT NULL
);
