-- One Reserve ('r') or Adjust ('a') of redisstore's Limits, over every take
-- of a call at once (Redis runs a script atomically); or Redis's clock
-- alone ('t'), to measure its offset from the process's.
--
-- KEYS[1]: the operation's own key, which keeps its answer for a moment: a
-- client that sends the script again (go-redis retries a command whose
-- reply it lost) gets that answer, and nothing is charged twice.
-- KEYS[2..]: the counters, one per take.
-- ARGV[1]: the op. ARGV[2]: the caller's deadline (unix ns on Redis's
-- clock): a script that runs after it changes nothing, since its caller
-- has given up on it. ARGV[3]: how long to keep the answer (ms): past the
-- deadline. ARGV[4]: now (unix ns on Redis's clock). ARGV[5]: how long to
-- keep a key past its counter's return to full (ms): longer than the
-- script may run after the instant it is given. Then six values per take:
--   bucket: 'b', never ('1': cost > burst), span(cost) ns, tau ns, '', ''
--   window: 'w', never, its end as the caller names it (the counter's
--           identity), its end on Redis's clock, cost, burst
--
-- The values are int64s (unix nanoseconds, spans saturated at ±2^62, costs
-- up to 2^63-1) and Lua's numbers are doubles, exact only to 2^53: each is
-- held as a pair h, l, worth h*1e9 + l with 0 <= l < 1e9, on which sums,
-- differences and comparisons are exact. The multiplications and divisions
-- (a cost as a span, a span as units) were made by the caller in Go.
--
-- A bucket's counter holds its TAT in decimal; a window's holds
-- 'w<end>:<used>'. A key expires ARGV[5] ms after its counter is back to
-- its initial state (a bucket at its TAT, a window at its end).
--
-- The reply: {seconds, microseconds, answer}, the first two from TIME;
-- answer is 'T' (op 't'), 'X' (past the deadline: nothing done), 'D' (an
-- Adjust done), or 'A ...' (admitted) or 'R ...' (refused) followed by each
-- take's counter as read (a TAT, or a window's units used).

local B = 1000000000
local MAXH, MAXL = 9223372036, 854775807 -- 2^63-1
local MINH, MINL = -9223372037, 145224192 -- -2^63

local function parse(s)
	local neg = string.byte(s, 1) == 45 -- '-'
	if neg then
		s = string.sub(s, 2)
	end
	local n = #s
	local h, l = 0, tonumber(s)
	if n > 9 then
		h, l = tonumber(string.sub(s, 1, n - 9)), tonumber(string.sub(s, n - 8))
	end
	if not neg then
		return h, l
	end
	if l > 0 then
		return -h - 1, B - l
	end
	return -h, 0
end

local function fmt(h, l)
	if h < 0 then
		h = -h
		if l > 0 then
			h, l = h - 1, B - l
		end
		if h == 0 then
			return string.format('-%.0f', l)
		end
		return string.format('-%.0f%09.0f', h, l)
	end
	if h == 0 then
		return string.format('%.0f', l)
	end
	return string.format('%.0f%09.0f', h, l)
end

local function less(ah, al, bh, bl)
	return ah < bh or (ah == bh and al < bl)
end

local function add(ah, al, bh, bl)
	local h, l = ah + bh, al + bl
	if l >= B then
		h, l = h + 1, l - B
	end
	return h, l
end

local function sub(ah, al, bh, bl)
	local h, l = ah - bh, al - bl
	if l < 0 then
		h, l = h - 1, l + B
	end
	return h, l
end

-- sat clamps to the int64 range, as the Go arithmetic saturates.
local function sat(h, l)
	if less(MAXH, MAXL, h, l) then
		return MAXH, MAXL
	end
	if less(h, l, MINH, MINL) then
		return MINH, MINL
	end
	return h, l
end

local keep -- ARGV[5], read below

-- ttl is how long to keep a key whose counter is back to full after a
-- positive span: the span in whole milliseconds, rounded up, and keep.
local function ttl(h, l)
	return string.format('%.0f', h * 1000 + math.floor((l + 999999) / 1000000) + keep)
end

local t = redis.call('TIME')
local op = ARGV[1]
if op == 't' then
	return {t[1], t[2], 'T'}
end
local done = redis.call('GET', KEYS[1])
if done then
	return {t[1], t[2], done}
end
local dh, dl = parse(ARGV[2])
if less(dh, dl, tonumber(t[1]), tonumber(t[2]) * 1000) then
	return {t[1], t[2], 'X'}
end

keep = tonumber(ARGV[5])
local reserve = op == 'r'
local nh, nl = parse(ARGV[4])
local ok = true
local seen = {} -- each counter as read, for the reply
local write = {} -- per key: {value, ttl}, false to delete, nil to leave
for i = 2, #KEYS do
	local a = 5 + (i - 2) * 6
	local never = ARGV[a + 2] == '1'
	local v = redis.call('GET', KEYS[i])
	if ARGV[a + 1] == 'b' then
		local th, tl = 0, 0 -- absent, or a window's: the past, a full bucket
		if v and string.byte(v, 1) ~= 119 then -- 'w'
			th, tl = parse(v)
		end
		seen[#seen + 1] = fmt(th, tl)
		if less(th, tl, nh, nl) then
			th, tl = nh, nl -- max(TAT, now)
		end
		local sh, sl = parse(ARGV[a + 3])
		local xh, xl = sat(add(th, tl, sh, sl))
		if reserve then
			-- admitted when next - now <= tau
			local uh, ul = parse(ARGV[a + 4])
			local lh, ll = add(nh, nl, uh, ul)
			if never or less(lh, ll, xh, xl) then
				ok = false
			end
		elseif less(xh, xl, nh, nl) then
			xh, xl = nh, nl -- a refund never takes the TAT below now: full
		end
		if less(nh, nl, xh, xl) then
			write[i] = {fmt(xh, xl), ttl(sub(xh, xl, nh, nl))}
		else
			write[i] = false -- full: nothing to keep
		end
	else
		local ident = ARGV[a + 3]
		local eh, el = parse(ARGV[a + 4])
		local open = less(nh, nl, eh, el)
		local uh, ul = 0, 0 -- units used: none in another window, or after its end
		if v and open and string.byte(v, 1) == 119 then
			local colon = string.find(v, ':', 2, true)
			if colon and string.sub(v, 2, colon - 1) == ident then
				uh, ul = parse(string.sub(v, colon + 1))
			end
		end
		seen[#seen + 1] = fmt(uh, ul)
		local ch, cl = parse(ARGV[a + 5])
		local xh, xl = sat(add(uh, ul, ch, cl))
		if reserve then
			if never then
				ok = false
			elseif open then
				local bh, bl = parse(ARGV[a + 6])
				if less(bh, bl, xh, xl) then
					ok = false
				end
			end
		elseif less(xh, xl, 0, 0) then
			xh, xl = 0, 0 -- a refund never takes a window below zero
		end
		if open then
			if less(0, 0, xh, xl) then
				write[i] = {'w' .. ident .. ':' .. fmt(xh, xl), ttl(sub(eh, el, nh, nl))}
			else
				write[i] = false
			end
		end -- else the window is over: nothing is kept, nothing to settle
	end
end

local answer = 'D'
if reserve then
	answer = (ok and 'A ' or 'R ') .. table.concat(seen, ' ')
	if not ok then
		return {t[1], t[2], answer} -- nothing charged: a retry may decide anew
	end
end
for i = 2, #KEYS do
	local w = write[i]
	if w then
		redis.call('SET', KEYS[i], w[1], 'PX', w[2])
	elseif w == false then
		redis.call('DEL', KEYS[i])
	end
end
redis.call('SET', KEYS[1], answer, 'PX', ARGV[3])
return {t[1], t[2], answer}
