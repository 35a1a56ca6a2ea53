-- POST /parse with one fixed 40-word English paragraph; prints one tab-separated summary line.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"text": "The committee met on Tuesday morning to review the budget for next year. '
    .. 'After a long discussion, they agreed to fund two new libraries, repair the old bridge, '
    .. 'and hire more teachers for the growing schools in the northern district."}'

done = function(summary, latency, requests)
    local seconds = summary.duration / 1e6
    local failed = summary.errors.status + summary.errors.connect + summary.errors.read
        + summary.errors.write + summary.errors.timeout
    io.write(string.format("RESULT\t%d\t%.0f\t%.2f\t%.2f\t%d\n", summary.requests,
        summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        failed))
end
