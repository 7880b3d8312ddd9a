-- GitHub signs its webhook deliveries (`X-Hub-Signature-256`) with a secret set on the webhook
-- and cannot send a bearer token, so a deploy integration may also keep that secret (an HMAC
-- check needs it as given).
ALTER TABLE integrations ADD COLUMN signing_secret TEXT;
