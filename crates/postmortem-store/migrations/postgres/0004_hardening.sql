-- Hardening: failed sign-ins, counted per subject (a handle, or a client address) in the
-- database so that every server node sees the same count and the same lockout; and an index
-- for listing a person's API tokens.

CREATE TABLE login_failures (
    subject TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE INDEX api_tokens_user ON api_tokens (user_id);
