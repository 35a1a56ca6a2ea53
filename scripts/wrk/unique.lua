-- POST /parse where every request carries never-seen tokens; each thread stops after
-- its share of the total request count (first script argument).
local threads = {}
local next_id = 0

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

function init(args)
    local total = tonumber(args[1]) or 200000
    local share = tonumber(args[2]) or 1
    limit = math.ceil(total / share)
    sent = 0
    answered = 0
    failed = 0
end

function request()
    sent = sent + 1
    local words = {}
    for w = 1, 10 do
        words[w] = string.format("zq%dx%dw%dsoak", id, sent, w)
    end
    local body = '{"text": "The soak test sends ' .. table.concat(words, " ") .. ' to the server."}'
    return wrk.format("POST", "/parse", { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
    answered = answered + 1
    if status ~= 200 then
        failed = failed + 1
    end
    if answered >= limit then
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local bad = 0
    for _, thread in ipairs(threads) do
        bad = bad + thread:get("failed")
    end
    io.write(string.format("RESULT\t%d\t%.0f\t%.2f\t%.2f\t%d\n", summary.requests,
        summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
        latency:percentile(99) / 1000, bad + summary.errors.connect + summary.errors.read
        + summary.errors.write + summary.errors.timeout))
end
