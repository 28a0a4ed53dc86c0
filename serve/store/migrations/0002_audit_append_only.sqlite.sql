-- The audit log refuses UPDATE and DELETE (SQLite triggers). Someone with
-- write access to the file can still drop the triggers; the hash chain is
-- what shows that they did.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
