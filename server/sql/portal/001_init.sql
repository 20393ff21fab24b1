-- One portal's own database: everything pulled from it, checkpoints, runs, and what we wrote back.
-- Deleting the portal's data is deleting this file. Dates are kept as the portal wrote them
-- ('2024-09-09T02:00:00+03:00'); months are 'YYYY-MM' of that local date.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Pulled CRM rows: only the fields the rules need plus what drill-down lists show.
-- channels is a bit set: 1 phone, 2 e-mail, 4 open-line chat, 8 web site, 16 messenger.
CREATE TABLE contact (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL DEFAULT '',
    company_id   INTEGER NOT NULL DEFAULT 0,
    company_ids  TEXT NOT NULL DEFAULT '',   -- comma-separated, in the portal's order (primary first)
    assigned_by  INTEGER NOT NULL DEFAULT 0,
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL DEFAULT '',
    channels     INTEGER NOT NULL DEFAULT 0,
    phones       TEXT NOT NULL DEFAULT '',   -- newline-separated
    emails       TEXT NOT NULL DEFAULT '',
    search       TEXT NOT NULL DEFAULT ''    -- lower-case name and e-mails, phone digits
);

CREATE TABLE company (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL DEFAULT '',
    is_my        INTEGER NOT NULL DEFAULT 0,
    assigned_by  INTEGER NOT NULL DEFAULT 0,
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL DEFAULT '',
    channels     INTEGER NOT NULL DEFAULT 0,
    phones       TEXT NOT NULL DEFAULT '',
    emails       TEXT NOT NULL DEFAULT '',
    search       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE deal (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL DEFAULT '',
    company_id   INTEGER NOT NULL DEFAULT 0,
    contact_ids  TEXT NOT NULL DEFAULT '',   -- first contact first
    semantic     TEXT NOT NULL DEFAULT 'P',  -- P in progress, S won, F lost
    moved        TEXT NOT NULL DEFAULT '',
    closedate    TEXT NOT NULL DEFAULT '',
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL DEFAULT ''
);

-- New ("smart") invoices, entityTypeId 31. Paid = the current stage's semantics is S.
CREATE TABLE invoice (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL DEFAULT '',
    company_id   INTEGER NOT NULL DEFAULT 0,
    contact_ids  TEXT NOT NULL DEFAULT '',
    deal_id      INTEGER NOT NULL DEFAULT 0,
    stage_id     TEXT NOT NULL DEFAULT '',
    moved        TEXT NOT NULL DEFAULT '',
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL DEFAULT ''
);

CREATE TABLE invoice_stage (
    stage_id     TEXT PRIMARY KEY,           -- e.g. DT31_0:P
    semantics    TEXT NOT NULL DEFAULT 'P'   -- P, S or F
);

-- Old invoices (crm.invoice.list), only where the portal still has them.
CREATE TABLE old_invoice (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL DEFAULT '',
    company_id   INTEGER NOT NULL DEFAULT 0,
    contact_id   INTEGER NOT NULL DEFAULT 0,
    deal_id      INTEGER NOT NULL DEFAULT 0,
    paid         INTEGER NOT NULL DEFAULT 0,
    paid_at      TEXT NOT NULL DEFAULT '',
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL DEFAULT ''
);

-- Activities with what they are bound to: owner and the entities of their communications,
-- as 'type:id' pairs separated by spaces (types 3 contact, 4 company; others kept but unused).
CREATE TABLE activity (
    id           INTEGER PRIMARY KEY,
    bindings     TEXT NOT NULL DEFAULT '',
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL DEFAULT ''
);

CREATE TABLE requisite (
    id           INTEGER PRIMARY KEY,
    entity_type  INTEGER NOT NULL,
    entity_id    INTEGER NOT NULL,
    created      TEXT NOT NULL DEFAULT '',
    updated      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX requisite_entity ON requisite(entity_type, entity_id);

CREATE TABLE portal_user (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL DEFAULT ''
);

-- First-run checkpoints: a month is done when all its rows of every entity are stored.
CREATE TABLE pull_month (
    month        TEXT PRIMARY KEY,           -- 'YYYY-MM'; '0000-00' = before the first month
    rows         INTEGER NOT NULL,
    done_at      INTEGER NOT NULL
);

-- Runs: history and live progress for the UI.
CREATE TABLE run (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,            -- first | incremental | full | recompute
    state          TEXT NOT NULL,            -- running | done | failed | cancelled
    phase          TEXT NOT NULL DEFAULT 'pull',
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER,
    months_total   INTEGER NOT NULL DEFAULT 0,
    months_done    INTEGER NOT NULL DEFAULT 0,
    month          TEXT NOT NULL DEFAULT '',
    rows           INTEGER NOT NULL DEFAULT 0,
    requests       INTEGER NOT NULL DEFAULT 0,
    cards_to_write INTEGER NOT NULL DEFAULT 0,
    cards_written  INTEGER NOT NULL DEFAULT 0,
    eta_seconds    INTEGER,
    error_code     TEXT,
    error_message  TEXT,
    stats          TEXT NOT NULL DEFAULT '{}'  -- requests and operating time by method (JSON)
);

-- Our user fields on this portal and their enumeration items.
CREATE TABLE user_field (
    entity       TEXT NOT NULL,              -- contact | company
    field        TEXT NOT NULL,              -- UF_CRM_SEG_...
    uf_id        INTEGER NOT NULL,
    PRIMARY KEY (entity, field)
);
CREATE TABLE user_field_item (
    entity       TEXT NOT NULL,
    field        TEXT NOT NULL,
    xml_id       TEXT NOT NULL,
    item_id      INTEGER NOT NULL,
    PRIMARY KEY (entity, field, xml_id)
);

-- Card values. 'target' is what the segmenter computed at the last run; 'card' is what the card
-- carries, as last read from the portal or written by us. A card is written when they differ.
-- kind: 3 contact, 4 company. Text values are XML_IDs / ISO dates; NULL means empty.
CREATE TABLE card (
    kind           INTEGER NOT NULL,
    id             INTEGER NOT NULL,
    known          INTEGER NOT NULL DEFAULT 0,  -- 1 once the card's current values are known
    parent_company INTEGER, lifecycle TEXT, client_type TEXT, frequency TEXT,
    last_payment   TEXT, payments INTEGER, has_dialogs INTEGER, has_channels INTEGER,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE TABLE target (
    kind           INTEGER NOT NULL,
    id             INTEGER NOT NULL,
    parent_company INTEGER, lifecycle TEXT, client_type TEXT, frequency TEXT,
    last_payment   TEXT, payments INTEGER, has_dialogs INTEGER, has_channels INTEGER,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- A write batch sent to the portal whose outcome is not yet stored. A resumed run re-reads these
-- cards before deciding what to write, so no card is written twice.
CREATE TABLE write_pending (
    kind           INTEGER NOT NULL,
    id             INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- Monthly series as recorded at the last run within each month (SEGMENTS.md §6).
CREATE TABLE series_recorded (
    month          TEXT NOT NULL,
    series         TEXT NOT NULL,            -- '<mode>.<series>', e.g. 'payments.active'
    value          INTEGER NOT NULL,
    run_id         INTEGER NOT NULL,
    PRIMARY KEY (month, series)
) WITHOUT ROWID;

-- Today's computation of every month's series (replaced at each run). Months with a recorded
-- value above show the recorded one instead.
CREATE TABLE series_current (
    month          TEXT NOT NULL,
    series         TEXT NOT NULL,
    value          INTEGER NOT NULL,
    PRIMARY KEY (month, series)
) WITHOUT ROWID;

-- Ids reported by CRM events since the last run, to be re-read by the next incremental run.
CREATE TABLE dirty (
    entity         TEXT NOT NULL,            -- contact | company | deal | invoice | old_invoice | activity | requisite
    id             INTEGER NOT NULL,
    PRIMARY KEY (entity, id)
) WITHOUT ROWID;
