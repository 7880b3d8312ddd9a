# Freshness across nodes: two `postmortem serve` processes on one PostgreSQL, each with its own
# search index (a/ and b/); saves an incident on node A (:18091) and times its first
# appearance in node B's search (:18092). Needs an admin API token in ./token.
import json, time, urllib.request, sys
token = open("token").read().strip()
def call(method, url, body=None):
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
# wait until node B has caught up with the demo data
for _ in range(600):
    if call("GET", "http://127.0.0.1:18092/api/v1/search?q=outage")["total"] > 0: break
    time.sleep(0.1)
samples = []
for n in range(20):
    import random, string
    word = "".join(random.choice(string.ascii_lowercase) for _ in range(14))
    t0 = time.monotonic()
    call("POST", "http://127.0.0.1:18091/api/v1/incidents", {"title": f"Freshness probe {word}", "kind": "outage", "severity": "SEV4"})
    t1 = time.monotonic()
    while not any(word in i["title"] for i in call("GET", f"http://127.0.0.1:18092/api/v1/search?q=%22{word}%22")["items"]):
        time.sleep(0.005)
    samples.append((time.monotonic() - t1) * 1000)
samples.sort()
print(f"freshness on node B after a save on node A, 20 saves: min {samples[0]:.0f} ms, median {samples[10]:.0f} ms, max {samples[-1]:.0f} ms")
