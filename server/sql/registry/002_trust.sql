-- Issue 9 (trust): soft delete after a confirmed uninstall, and uninstall claims that could not be
-- confirmed yet. Token columns of `portal` hold "enc1:..." values (AES-256-GCM, crypto.hpp) from
-- this version on; rows written before are encrypted when the registry is opened with a key.

-- When a portal uninstalled with "delete data" (CLEAN=1) is purged: files and row removed.
-- 0 = not scheduled.
ALTER TABLE portal ADD COLUMN purge_at INTEGER NOT NULL DEFAULT 0;

-- ONAPPUNINSTALL events with the right application token that could not be confirmed with the
-- portal (it did not answer at all). The portal is left as it is; the server asks the portal again
-- until it either confirms the uninstall (then it is carried out) or shows the app still installed
-- (then the claim is dropped). The portal row itself is never touched by a claim.
CREATE TABLE uninstall_claim (
    member_id      TEXT PRIMARY KEY,
    clean          INTEGER NOT NULL,      -- data[CLEAN] of the claim
    claimed_at     INTEGER NOT NULL,      -- unix seconds
    next_check_at  INTEGER NOT NULL,
    checks         INTEGER NOT NULL DEFAULT 0
);
