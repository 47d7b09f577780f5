-- wrk script: POST a small generateContent request; counts non-200 answers.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}'
local bad = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, "Echo: Hello", 1, true) then
    bad = bad + 1
  end
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH req_s=%.0f p50_us=%d p90_us=%d p99_us=%d p999_us=%d errors=%d bad=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9),
    summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.status + summary.errors.timeout, bad))
end
