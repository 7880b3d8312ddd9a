-- wrk script for the webhook receivers: POSTs Alertmanager's documented firing payload to
-- /hooks/alertmanager/{id} with the integration's secret. Every request after the first is a
-- duplicate delivery: the body is parsed, kept, and its entries are found to exist already.
-- Each connection waits 20 ms between requests (wrk's `delay`), so 4 connections offer at most
-- 200 requests/s; wrk's latency excludes the wait.
-- Usage: SECRET=... FIXTURE=crates/postmortem-hooks/tests/it/fixtures/alertmanager_firing.json \
--        wrk -t2 -c4 -d30s --latency -s docs/bench/receiver.lua http://127.0.0.1:18432/hooks/alertmanager/1
local file = io.open(os.getenv("FIXTURE"), "rb")
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SECRET")

function delay()
   return 20
end
