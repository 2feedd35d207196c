"""The floor under any forwarder on this box: one plain ``sendto`` per packet per viewer.

A sender process sends the panel's packet rate (``--rate`` packets/s: 210 is 720p VP8 at
1.5 Mbit/s plus Opus) of ``--size``-byte datagrams to each of ``--viewers`` receiving
sockets, from one socket per viewer (as each WebRTC viewer has its own ICE socket), with no
SRTP and no RTP logic at all. The receivers are ``--workers`` processes that only read and
count, like ``bench/fanout.py``'s counting viewers. The sender's CPU per datagram is what the
kernel charges a sender on this machine for a loopback datagram that wakes its reader:
``bench/fanout.py``'s µs per forwarded packet cannot go below it.

    .venv/bin/python bench/udp_floor.py [--viewers 300] [--rate 210] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import selectors
import socket
import time
from multiprocessing.connection import Connection
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def receiver(count: int, pipe: Connection) -> None:
    selector = selectors.DefaultSelector()
    sockets = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        sockets.append(sock)
    pipe.send([s.getsockname() for s in sockets])
    received = 0
    while not pipe.poll():
        for key, _ in selector.select(timeout=0.2):
            readable: Any = key.fileobj
            while True:
                try:
                    readable.recv(2048)
                except BlockingIOError:
                    break
                received += 1
    pipe.recv()
    pipe.send(received)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", type=int, default=300)
    parser.add_argument("--rate", type=float, default=210)
    parser.add_argument("--size", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    pipes, processes, addresses = [], [], []
    for index in range(args.workers):
        ours, theirs = multiprocessing.Pipe()
        count = args.viewers // args.workers + (index < args.viewers % args.workers)
        process = multiprocessing.Process(target=receiver, args=(count, theirs))
        process.start()
        pipes.append(ours)
        processes.append(process)
        addresses += ours.recv()
    senders = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in addresses]
    payload = os.urandom(args.size)
    started_cpu = time.process_time()
    workers_before = sum(cpu_seconds(p.pid) for p in processes if p.pid)
    started = time.monotonic()
    sent = 0
    tick = 0
    while True:
        due = started + tick / args.rate
        now = time.monotonic()
        if now - started >= args.seconds:
            break
        if due > now:
            time.sleep(due - now)
        for sender, address in zip(senders, addresses, strict=True):
            sender.sendto(payload, address)
        sent += len(senders)
        tick += 1
    elapsed = time.monotonic() - started
    cpu = time.process_time() - started_cpu
    workers_cpu = sum(cpu_seconds(p.pid) for p in processes if p.pid) - workers_before
    time.sleep(0.3)
    received = 0
    for pipe in pipes:
        pipe.send("stop")
        received += pipe.recv()
    for process in processes:
        process.join()
    print(
        json.dumps(
            {
                "viewers": args.viewers,
                "datagrams_per_s": round(sent / elapsed),
                "sender_cpu_percent": round(cpu / elapsed * 100, 1),
                "sender_us_per_datagram": round(cpu / sent * 1e6, 2),
                "receivers_cpu_percent": round(workers_cpu / elapsed * 100, 1),
                "received_percent": round(100 * received / sent, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
