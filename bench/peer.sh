#!/usr/bin/env bash
# bench/peer.sh [pairs] [flags of bench/peer ...]
#
# aigateway's full default stack against the Portkey gateway, over real
# loopback HTTP, in one run: installs @portkey-ai/gateway (pinned) into
# bench/.peer/ (not committed), starts it headless on a free loopback port,
# runs the Go side (bench/peer: the llmtest fake as the upstream of both,
# each call paired with a direct one) and stops Portkey on exit.
#
#   bench/peer.sh                 # 2000 JSON pairs per path, 200 stream pairs
#   bench/peer.sh 500 -stream-pairs 0
#
# Needs node (18 or newer; 20 was used), npm, go. Not part of CI.
set -euo pipefail

portkey_version=1.15.2
# Portkey's build sets response headers that @hono/node-server 1.14 and
# newer hand over immutable for a streamed answer: every stream fails with
# "TypeError: immutable" (Portkey-AI/gateway#1389). 1.13.5 is the version
# Portkey's own lockfile resolved (Portkey-AI/gateway#1604).
hono_node_server_version=1.13.5

die() {
	echo "peer.sh: $*" >&2
	exit 1
}

root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/bench/.peer
pairs=${1:-2000}
if [ $# -gt 0 ]; then shift; fi

command -v node >/dev/null || die "node is missing: install Node.js 18 or newer (the figures were taken with 20)"
command -v npm >/dev/null || die "npm is missing (it comes with Node.js)"
command -v go >/dev/null || die "go is missing"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || die "node $(node --version) is too old: Portkey needs 18 or newer"
if [ "$node_major" -ge 24 ]; then
	echo "peer.sh: warning: @hono/node-server $hono_node_server_version may fail to start on node 24 (Portkey-AI/gateway#1604)" >&2
fi

mkdir -p "$dir"
cat >"$dir/package.json" <<EOF
{
  "private": true,
  "dependencies": { "@portkey-ai/gateway": "$portkey_version" },
  "overrides": { "@hono/node-server": "$hono_node_server_version" }
}
EOF
version() {
	node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version' \
		"$dir/node_modules/$1/package.json" 2>/dev/null || true
}
if [ "$(version @portkey-ai/gateway)" != "$portkey_version" ] ||
	[ "$(version @hono/node-server)" != "$hono_node_server_version" ]; then
	echo "peer.sh: installing @portkey-ai/gateway@$portkey_version into $dir" >&2
	# --ignore-scripts: nothing of the install runs but Portkey itself.
	(cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error) ||
		die "npm install failed"
fi

# Portkey listens on every interface (its server is given a port and no
# host). This preload makes a listen without a host take 127.0.0.1, and
# writes the address it got (--port=0: the system picks a free port).
cat >"$dir/loopback.mjs" <<'EOF'
import fs from 'node:fs';
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number') {
    if (typeof args[1] === 'function') args.splice(1, 0, '127.0.0.1');
    else if (args[1] === undefined) args[1] = '127.0.0.1';
  }
  this.once('listening', () => {
    const a = this.address();
    fs.writeFileSync(process.env.PEER_ADDR_FILE, `${a.address}:${a.port}\n`);
  });
  return listen.apply(this, args);
};
EOF

addr_file=$dir/addr
log=$dir/portkey.log
rm -f "$addr_file"
PEER_ADDR_FILE=$addr_file node --import "$dir/loopback.mjs" \
	"$dir/node_modules/@portkey-ai/gateway/build/start-server.js" --port=0 --headless >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT

for _ in $(seq 300); do
	[ -s "$addr_file" ] && break
	kill -0 "$pid" 2>/dev/null || die "Portkey exited: $(tail -n 20 "$log")"
	sleep 0.1
done
[ -s "$addr_file" ] || die "Portkey did not start listening within 30 s: $(tail -n 20 "$log")"
addr=$(head -n 1 "$addr_file")
case $addr in
127.0.0.1:*) ;;
*) die "Portkey listens on $addr, not on loopback only" ;;
esac

echo "Portkey $portkey_version (@hono/node-server $(version @hono/node-server), hono $(version hono)) on node $(node --version), listening on $addr only" >&2
(cd "$root" && go build -o "$dir/peer" ./bench/peer)
status=0
"$dir/peer" -peer "http://$addr" -peer-name "Portkey $portkey_version" -pairs "$pairs" "$@" || status=$?
if [ "$status" -ne 0 ]; then
	echo "peer.sh: the measurement failed; Portkey's log ($log) ends with:" >&2
	tail -n 20 "$log" >&2
fi
exit "$status"
