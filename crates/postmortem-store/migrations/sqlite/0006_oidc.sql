-- Sign-in through an identity provider (OpenID Connect).
--
-- `external_identities` maps a provider's (issuer, subject) pair, which the provider promises
-- never to reassign, to a local person. `oidc_sign_ins` holds the secrets of a sign-in in
-- progress (PKCE verifier, nonce, where to go next) under the hash of its `state`, so the
-- callback may land on any server node; each row is taken once and lives for minutes.

CREATE TABLE external_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX external_identities_user ON external_identities (user_id);

CREATE TABLE oidc_sign_ins (
    state_hash TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX oidc_sign_ins_expires ON oidc_sign_ins (expires_at);
