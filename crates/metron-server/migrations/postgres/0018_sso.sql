-- Signing in with the organization's identity provider (issue 29). One OpenID Connect
-- provider an organization; its client secret is kept as given (the server must send it).
CREATE TABLE sso_providers (
    org_id            TEXT PRIMARY KEY REFERENCES organizations (id),
    name              TEXT NOT NULL,
    issuer            TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    client_secret     TEXT NOT NULL,
    -- Lowercase domains, comma-separated; empty: any domain the provider vouches for.
    allowed_domains   TEXT NOT NULL DEFAULT '',
    groups_claim      TEXT NOT NULL DEFAULT '',
    admin_groups      TEXT NOT NULL DEFAULT '',
    manager_groups    TEXT NOT NULL DEFAULT '',
    -- Password sign-in off for everyone but the break-glass admin.
    sso_only          BOOLEAN NOT NULL DEFAULT FALSE,
    break_glass_email TEXT NOT NULL DEFAULT '',
    updated_at        BIGINT NOT NULL
);
-- Who a provider's subject is here: linked at the first sign-in, by verified email.
CREATE TABLE sso_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX sso_identities_user ON sso_identities (user_id);
-- A sign-in on its way through the provider (from /sso/start to /sso/callback), keyed by the
-- hash of the state sent there; the row is taken once, so a replayed callback finds nothing.
CREATE TABLE sso_logins (
    state_hash       TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    nonce            TEXT NOT NULL,
    pkce_verifier    TEXT NOT NULL,
    -- The client's own return: a loopback address (an app), '' (the page), or a device code.
    redirect_uri     TEXT NOT NULL DEFAULT '',
    client_state     TEXT NOT NULL DEFAULT '',
    client_challenge TEXT NOT NULL DEFAULT '',
    device_code_hash TEXT NOT NULL DEFAULT '',
    expires_at       BIGINT NOT NULL
);
-- What the client trades for a device token after the provider said yes: one use, a minute.
CREATE TABLE sso_codes (
    code_hash    TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    challenge    TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    expires_at   BIGINT NOT NULL
);
-- RFC 8628: an agent without a browser waits on its device code while the person signs in
-- elsewhere with the user code.
CREATE TABLE sso_device_codes (
    device_code_hash TEXT PRIMARY KEY,
    user_code        TEXT NOT NULL UNIQUE,
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    device_id        TEXT,
    -- 'pending', 'approved' (user_id set) or 'refused' (reason set).
    status           TEXT NOT NULL DEFAULT 'pending',
    user_id          TEXT REFERENCES users (id),
    reason           TEXT NOT NULL DEFAULT '',
    last_poll_at     BIGINT NOT NULL DEFAULT 0,
    expires_at       BIGINT NOT NULL
);
