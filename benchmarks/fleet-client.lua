-- wrk script for benchmarks/fleet.sh: paced GETs (each connection waits FLEET_PACE_MS between its
-- requests, so the client leaves CPU to the fleet: the fleet script shows behaviour, not throughput)
-- and one machine-readable result line with wrk's error counts and latencies.
local pace = tonumber(os.getenv("FLEET_PACE_MS") or "2")

function delay()
  return pace
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "FLEET requests=%d connect=%d read=%d write=%d timeout=%d status=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
    summary.requests, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
