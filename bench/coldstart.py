#!/usr/bin/env python3
"""Cold start: milliseconds from spawning `meridian serve` to its first 200 on /health,
and its resident memory once idle. Usage: coldstart.py BIN DATABASE_URL [RUNS]"""
import os, socket, statistics, subprocess, sys, tempfile, time

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def first_200(port, deadline):
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(request)
                if s.recv(16).startswith(b"HTTP/1.1 200"):
                    return True
        except OSError:
            time.sleep(0.0005)
    return False

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1

def main():
    binary, url = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    times, rss = [], []
    with tempfile.TemporaryDirectory() as workdir:
        # One start to apply migrations, so the runs measure a normal restart.
        for i in range(runs + 1):
            port = free_port()
            env = dict(os.environ, DATABASE_URL=url, MERIDIAN_LOG="warn")
            start = time.monotonic()
            proc = subprocess.Popen([binary, "serve", "--addr", f"127.0.0.1:{port}"],
                                    cwd=workdir, env=env, stderr=subprocess.DEVNULL)
            ok = first_200(port, start + 20)
            elapsed = (time.monotonic() - start) * 1000
            if not ok:
                proc.kill()
                sys.exit("server did not answer within 20 s")
            time.sleep(1.0)
            if i > 0:
                times.append(elapsed)
                rss.append(rss_kib(proc.pid) / 1024)
            proc.terminate()
            proc.wait(10)
    times.sort()
    print(f"cold_start_ms median={statistics.median(times):.1f} min={times[0]:.1f} max={times[-1]:.1f} runs={runs}")
    print(f"idle_rss_mib median={statistics.median(rss):.1f} max={max(rss):.1f}")

if __name__ == "__main__":
    main()
