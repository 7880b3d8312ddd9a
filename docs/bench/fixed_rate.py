#!/usr/bin/env python3
"""A fixed-rate (open-loop) load generator for the webhook receivers, like wrk2's `-R`.

Request i is due at start + i/RATE whatever happened to the earlier ones; its latency is counted
from when it was due, not from when a connection was free to send it, so a server that stalls
is charged for every request that waited behind the stall (no coordinated omission). Requests go
over keep-alive HTTP/1.1 connections; a new one is opened whenever none is idle (up to --max-conns).

Usage:
  SECRET=... python3 docs/bench/fixed_rate.py --rate 200 --seconds 30 \
      --body crates/postmortem-hooks/tests/it/fixtures/alertmanager_firing.json \
      http://127.0.0.1:18432/hooks/alertmanager/1
Only the standard library is used, so it runs wherever Python 3.8+ does.
"""

import argparse
import asyncio
import os
import time
import urllib.parse


async def request(reader, writer, head, body):
    writer.write(head + body)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    length = 0
    close = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
        elif name.lower() == "connection" and value.strip().lower() == "close":
            close = True
    await reader.readexactly(length)
    return int(status_line.split()[1]), close


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--body", required=True)
    parser.add_argument("--max-conns", type=int, default=64)
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    body = open(args.body, "rb").read()
    head = (
        f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: Bearer {os.environ['SECRET']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    idle = []
    opened = 0
    latencies = []
    statuses = {}
    late_starts = 0

    async def one(due):
        nonlocal opened, late_starts
        conn = idle.pop() if idle else None
        if conn is None:
            if opened >= args.max_conns:
                while not idle:
                    await asyncio.sleep(0.0005)
                conn = idle.pop()
            else:
                opened += 1
                conn = await asyncio.open_connection(url.hostname, url.port)
        if time.perf_counter() - due > 0.001:
            late_starts += 1
        try:
            status, close = await request(*conn, head, body)
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            statuses[str(error)] = statuses.get(str(error), 0) + 1
            opened -= 1
            return
        latencies.append(time.perf_counter() - due)
        statuses[status] = statuses.get(status, 0) + 1
        if close:
            conn[1].close()
            opened -= 1
        else:
            idle.append(conn)

    total = int(args.rate * args.seconds)
    start = time.perf_counter() + 0.1
    tasks = []
    for i in range(total):
        due = start + i / args.rate
        pause = due - time.perf_counter()
        if pause > 0:
            await asyncio.sleep(pause)
        tasks.append(asyncio.ensure_future(one(due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1000

    print(
        f"offered {args.rate:.0f}/s for {args.seconds:.0f} s: {len(latencies)} answered "
        f"({len(latencies) / elapsed:.0f}/s), statuses {statuses}, connections {opened}, "
        f"sent late by the client {late_starts}"
    )
    print(
        f"latency from the due time: p50 {pct(50):.1f} ms, p90 {pct(90):.1f} ms, "
        f"p99 {pct(99):.1f} ms, p99.9 {pct(99.9):.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
