/**
 * Numbered schema migrations; `PRAGMA user_version` records how many have run. Append only:
 * a released migration is never edited, a new one is added after it.
 */
/** item_counts from scratch (migration 6; loaders that write items directly call it after). */
export const REBUILD_ITEM_COUNTS = `
  DELETE FROM item_counts;
  INSERT INTO item_counts
    SELECT account_id, product, created_at / 3600000, object_type, status, domain, count(*)
    FROM items GROUP BY 1, 2, 3, 4, 5, 6;`;

export const MIGRATIONS: readonly string[] = [
  /* 1: identity, domains, tasks, items, per-node attempts, usage counters */ `
  CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    uid         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL UNIQUE,
    cdn_service TEXT NOT NULL DEFAULT 'active',
    vod_service TEXT NOT NULL DEFAULT 'active',
    created_at  INTEGER NOT NULL
  );
  CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    secret        TEXT NOT NULL,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    user_name     TEXT,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
  );
  CREATE INDEX access_keys_account ON access_keys(account_id);
  CREATE TABLE domains (
    name       TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    product    TEXT NOT NULL,
    origin     TEXT,
    online     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX domains_account ON domains(account_id);
  -- AUTOINCREMENT: task ids are never reused, even after retention deletes every task.
  CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL,
    product     TEXT NOT NULL,
    domain      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    force       INTEGER NOT NULL,
    area        TEXT,
    l2_preload  INTEGER NOT NULL,
    with_header TEXT,
    item_count  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
  );
  CREATE INDEX tasks_created ON tasks(created_at);
  -- Task ids look like Alibaba's (11 digits): the first one handed out is 17000000001.
  INSERT INTO sqlite_sequence (name, seq) VALUES ('tasks', 17000000000);
  -- One row per object path of a task. Node counts are null until the engine dispatches the
  -- item; status is derived from them (domain/progress.ts) and kept here only for the filter index.
  CREATE TABLE items (
    id            INTEGER PRIMARY KEY,
    task_id       INTEGER NOT NULL,
    account_id    INTEGER NOT NULL,
    product       TEXT NOT NULL,
    domain        TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    object_path   TEXT NOT NULL,
    path_hash     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    status        TEXT NOT NULL DEFAULT 'Pending',
    nodes_total   INTEGER,
    nodes_applied INTEGER NOT NULL DEFAULT 0,
    nodes_failed  INTEGER NOT NULL DEFAULT 0,
    description   TEXT NOT NULL DEFAULT ''
  );
  CREATE INDEX items_account_time ON items(account_id, product, created_at);
  CREATE INDEX items_account_type ON items(account_id, product, object_type, status, created_at);
  CREATE INDEX items_account_domain ON items(account_id, product, domain, created_at);
  CREATE INDEX items_account_path ON items(account_id, path_hash);
  CREATE INDEX items_task ON items(task_id);
  -- Per-node work for the execution engine: pending -> applied | failed, leased by a worker.
  CREATE TABLE node_attempts (
    item_id     INTEGER NOT NULL,
    node_id     INTEGER NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_run_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    last_error  TEXT,
    applied_at  INTEGER,
    PRIMARY KEY (item_id, node_id)
  ) WITHOUT ROWID;
  -- Claims read only free attempts (a leased one is skipped without being looked at, however
  -- many a worker holds); the reaper frees expired leases through the second index.
  CREATE INDEX node_attempts_ready ON node_attempts(next_run_at) WHERE state = 'pending' AND lease_owner IS NULL;
  CREATE INDEX node_attempts_leased ON node_attempts(lease_until) WHERE lease_owner IS NOT NULL;
  CREATE TABLE usage_counters (
    bucket     TEXT PRIMARY KEY,
    used       INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  /* 2: the fleet (cache nodes in groups), domains mapped to a group, the dispatch index */ `
  CREATE TABLE nodes (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    driver     TEXT NOT NULL,
    address    TEXT NOT NULL,
    node_group TEXT NOT NULL DEFAULT 'default',
    area       TEXT NOT NULL DEFAULT 'domestic',
    enabled    INTEGER NOT NULL DEFAULT 1,
    options    TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
  );
  ALTER TABLE domains ADD COLUMN node_group TEXT NOT NULL DEFAULT 'default';
  -- Items not yet given their per-node attempts: small, so dispatch never scans the table.
  CREATE INDEX items_undispatched ON items(id) WHERE nodes_total IS NULL;
  `,
  /* 3: identity (sealed secrets, RAM users, policies), the audit log, store metadata */ `
  -- Secrets are sealed by identity/secret-box.ts from now on. Rows written before that are
  -- marked plain: and sealed by the first process that opens the master key (identity/vault.ts).
  ALTER TABLE access_keys RENAME COLUMN secret TO secret_cipher;
  UPDATE access_keys SET secret_cipher = 'plain:' || secret_cipher;
  CREATE INDEX access_keys_user ON access_keys(account_id, user_name);
  CREATE TABLE ram_users (
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    name         TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
  ) WITHOUT ROWID;
  CREATE TABLE policies (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    document    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
  ) WITHOUT ROWID;
  CREATE TABLE policy_attachments (
    account_id  INTEGER NOT NULL,
    user_name   TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    attached_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, user_name, policy_name),
    FOREIGN KEY (account_id, user_name) REFERENCES ram_users(account_id, name) ON DELETE CASCADE,
    FOREIGN KEY (account_id, policy_name) REFERENCES policies(account_id, name) ON DELETE CASCADE
  ) WITHOUT ROWID;
  CREATE INDEX policy_attachments_policy ON policy_attachments(account_id, policy_name);
  -- One row per API call, kept for auditRetentionDays (longer than tasks). Appended in batches.
  CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    request_id    TEXT NOT NULL,
    account_id    INTEGER,
    user_name     TEXT,
    access_key_id TEXT,
    source_ip     TEXT NOT NULL,
    product       TEXT,
    action        TEXT,
    params        TEXT NOT NULL,
    status        INTEGER NOT NULL,
    code          TEXT
  );
  CREATE INDEX audit_log_at ON audit_log(at);
  CREATE INDEX audit_log_account ON audit_log(account_id, at);
  -- Small named values about the store itself, e.g. the master key's check value.
  CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  /* 4: finished tasks, per-account webhooks and their deliveries (worker/notifier.ts) */ `
  -- Set once, by the first notifier that sees every item of the task Complete or Failed.
  ALTER TABLE tasks ADD COLUMN finished_at INTEGER;
  -- Tasks that were already done before this migration count as finished now, so a webhook set
  -- after the upgrade is not sent events for old tasks.
  UPDATE tasks SET finished_at = unixepoch() * 1000
   WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.task_id = tasks.id AND i.status IN ('Pending', 'Refreshing'));
  -- The notifier scans only unfinished tasks: tasks in flight, not the whole retention window.
  CREATE INDEX tasks_unfinished ON tasks(id) WHERE finished_at IS NULL;
  CREATE TABLE webhooks (
    account_id    INTEGER PRIMARY KEY REFERENCES accounts(id),
    url           TEXT NOT NULL,
    secret_cipher TEXT NOT NULL,
    created_at    INTEGER NOT NULL
  );
  -- One row per event per task: pending -> delivered | failed, leased by a notifier. A claim
  -- moves next_run_at to the lease's end, so an expired lease is simply due again.
  CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL,
    task_id      INTEGER NOT NULL,
    product      TEXT NOT NULL,
    event        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_run_at  INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER,
    state        TEXT NOT NULL DEFAULT 'pending',
    last_error   TEXT,
    delivered_at INTEGER,
    UNIQUE (task_id, event)
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_run_at) WHERE state = 'pending';
  CREATE INDEX webhook_deliveries_account ON webhook_deliveries(account_id, id);
  CREATE INDEX webhook_deliveries_created ON webhook_deliveries(created_at);
  `,
  /* 5: DescribeRefreshTasks by domain counts inside one index (the API requires ObjectType with DomainName) */ `
  CREATE INDEX items_account_domain_type ON items(account_id, product, domain, object_type, created_at, status);
  DROP INDEX items_account_domain;
  `,
  /* 6: per-hour item counts, so TotalCount costs O(hours) instead of O(items in the window) */ `
  -- n items of (account, product, UTC hour of created_at, type, status, domain), in the same
  -- transaction as every change to items: a task's items are inserted with it, all Pending
  -- (trigger on tasks: one write per task, not per URL); a status change moves one item between
  -- rows (trigger on items); retention subtracts what it deletes (sqlite-store.ts sweep). Rows
  -- that reach 0 are deleted, so a count reads only combinations that hold items.
  CREATE TABLE item_counts (
    account_id  INTEGER NOT NULL,
    product     TEXT NOT NULL,
    hour        INTEGER NOT NULL,
    object_type TEXT NOT NULL,
    status      TEXT NOT NULL,
    domain      TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (account_id, product, hour, object_type, status, domain)
  ) WITHOUT ROWID;
  ${REBUILD_ITEM_COUNTS}
  CREATE TRIGGER tasks_count_items AFTER INSERT ON tasks BEGIN
    INSERT INTO item_counts VALUES (new.account_id, new.product, new.created_at / 3600000, new.object_type, 'Pending', new.domain, new.item_count)
      ON CONFLICT DO UPDATE SET n = n + excluded.n;
  END;
  CREATE TRIGGER items_count_status AFTER UPDATE OF status ON items WHEN old.status IS NOT new.status BEGIN
    UPDATE item_counts SET n = n - 1 WHERE account_id = old.account_id AND product = old.product
      AND hour = old.created_at / 3600000 AND object_type = old.object_type AND status = old.status AND domain = old.domain;
    DELETE FROM item_counts WHERE account_id = old.account_id AND product = old.product
      AND hour = old.created_at / 3600000 AND object_type = old.object_type AND status = old.status AND domain = old.domain AND n = 0;
    INSERT INTO item_counts VALUES (new.account_id, new.product, new.created_at / 3600000, new.object_type, new.status, new.domain, 1)
      ON CONFLICT DO UPDATE SET n = n + 1;
  END;
  `,
  /* 7: signature nonces outlive a restart (nonce-log.ts); ordered by expiry for the sweep */ `
  CREATE TABLE nonces (
    expires_at INTEGER NOT NULL,
    key        TEXT NOT NULL,
    PRIMARY KEY (expires_at, key)
  ) WITHOUT ROWID;
  `,
  /* 8: an item is Pending until a node confirms it (domain/progress.ts); the trigger moves its per-hour count */ `
  UPDATE items SET status = 'Pending'
   WHERE status = 'Refreshing' AND nodes_total > 0 AND nodes_applied = 0 AND nodes_failed = 0;
  `,
  /* 9: how each node's outcome was verified (edges/verify.ts), and node-group settings */ `
  ALTER TABLE node_attempts ADD COLUMN verified_by TEXT;
  CREATE TABLE node_groups (
    name   TEXT PRIMARY KEY,
    verify TEXT NOT NULL
  );
  `,
  /* 10: idempotent submits: a ClientToken is written with the tasks its submit created (client-tokens.ts) */ `
  -- One row per (account, token) for 24 h: the parameters' fingerprint and the task ids answered
  -- (comma-joined). Retention deletes expired rows through the expiry index.
  -- IF NOT EXISTS, as shipped: a second run would be harmless, though none happens (the version is recorded with it).
  CREATE TABLE IF NOT EXISTS client_tokens (
    account_id  INTEGER NOT NULL,
    token       TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    task_ids    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, token)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS client_tokens_expiry ON client_tokens(expires_at);
  `,
  /* 11: purge-then-warm: a task may warm each node once it confirmed the purge (AttemptPhase in domain/records.ts) */ `
  ALTER TABLE tasks ADD COLUMN preload_after INTEGER NOT NULL DEFAULT 0;
  -- NULL for single-phase attempts; 'purge' then 'preload' for those of a preload_after task.
  -- A purge recorded applied turns the row into its preload, due at once (queue.ts).
  ALTER TABLE node_attempts ADD COLUMN phase TEXT;
  ALTER TABLE node_attempts ADD COLUMN purged_at INTEGER;
  `,
  /* 12: the sample URLs a purge is verified on (VerifyUrl, domain/verify-url.ts), newline-separated; null when none */ `
  ALTER TABLE tasks ADD COLUMN verify_urls TEXT;
  `,
];
