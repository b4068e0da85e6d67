#!/usr/bin/env bash
# The Linux baseline for vpcsim's forwarding benchmarks (issue 7).
#
# Builds the topology of benches/scenarios/two-subnets-*.toml in network
# namespaces: a generator host in subnet-1 (198.18.1.0/24), a sink host in
# subnet-2 (198.18.2.0/24), and a router namespace between them (veth pairs,
# ip route, IPv4 forwarding). The router's nftables forward chain applies:
#   - the NACL, stateless: subnet-1 egress and subnet-2 ingress, RULES rules
#     each (RULES-2 filler rules that never match the traffic, then allow),
#     like the generated scenario's acl-bench;
#   - the security group, stateful: ct state established,related accept, then
#     RULES rules (fillers, then allow from the VPC range, ct state new).
# The generator (benches/udpblast.c, sendmmsg) sends UDP datagrams on FLOWS
# flows for SECONDS seconds (at most MAX_PACKETS); the sink answers each flow
# once first, so the flows are "established" in conntrack, then drops and
# counts what arrives (an nftables counter). Prints packets per second
# forwarded (received at the sink).
#
# Needs root, iproute2, nftables and gcc. Traffic stays in the namespaces it
# creates (addresses from 198.18.0.0/15 only); they are deleted on exit, also
# on failure. Not part of the test run.
#
# Usage: benches/linux-baseline.sh [SECONDS] [RULES]   (defaults 5, 10)
# Environment: FLOWS (64), PAYLOAD (64 bytes of UDP payload), MAX_PACKETS (50000000).
set -euo pipefail

SECONDS_TO_RUN=${1:-5}
RULES=${2:-10}
FLOWS=${FLOWS:-64}
PAYLOAD=${PAYLOAD:-64}
MAX_PACKETS=${MAX_PACKETS:-50000000}
if ! [[ $SECONDS_TO_RUN =~ ^[0-9]+$ ]] || ((SECONDS_TO_RUN < 1 || SECONDS_TO_RUN > 60)); then
    echo "SECONDS must be 1-60" >&2
    exit 2
fi
if ! [[ $RULES =~ ^[0-9]+$ ]] || ((RULES < 2 || RULES > 5000)); then
    echo "RULES must be 2-5000" >&2
    exit 2
fi
for tool in ip nft gcc; do
    command -v "$tool" >/dev/null || {
        echo "needs $tool (apt-get install iproute2 nftables gcc)" >&2
        exit 2
    }
done

HERE=$(cd "$(dirname "$0")" && pwd)
TAG="vb$$"
GEN="$TAG-gen"
RTR="$TAG-rtr"
SINK="$TAG-sink"
WORK=$(mktemp -d)

cleanup() {
    for ns in "$GEN" "$RTR" "$SINK"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

gcc -O2 -o "$WORK/udpblast" "$HERE/udpblast.c"

for ns in "$GEN" "$RTR" "$SINK"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done
ip link add "$TAG-g0" netns "$GEN" type veth peer name "$TAG-r1" netns "$RTR"
ip link add "$TAG-r2" netns "$RTR" type veth peer name "$TAG-s0" netns "$SINK"
ip -n "$GEN" addr add 198.18.1.10/24 dev "$TAG-g0"
ip -n "$RTR" addr add 198.18.1.1/24 dev "$TAG-r1"
ip -n "$RTR" addr add 198.18.2.1/24 dev "$TAG-r2"
ip -n "$SINK" addr add 198.18.2.10/24 dev "$TAG-s0"
for pair in "$GEN $TAG-g0" "$RTR $TAG-r1" "$RTR $TAG-r2" "$SINK $TAG-s0"; do
    set -- $pair
    ip -n "$1" link set "$2" up
done
ip -n "$GEN" route add default via 198.18.1.1
ip -n "$SINK" route add default via 198.18.2.1
ip netns exec "$RTR" sysctl -qw net.ipv4.ip_forward=1

# Filler rules that never match the benchmark traffic (UDP to port 5201
# between 198.18.1.0/24 and 198.18.2.0/24), as in the generated scenarios.
fillers() {
    local verdict=$1 k
    for ((k = 0; k < RULES - 2; k++)); do
        case $((k % 3)) in
        0) echo "    tcp dport $((2000 + k)) $verdict" ;;
        1) echo "    ip daddr 172.$((16 + (k >> 8) % 16)).$((k & 255)).0/24 $verdict" ;;
        2) echo "    ip saddr 172.$((16 + (k >> 8) % 16)).$((k & 255)).0/24 udp dport $((1000 + k))-$((1001 + k)) $verdict" ;;
        esac
    done
}
{
    echo "table inet vpc {"
    for chain in nacl_egress_1 nacl_ingress_2 nacl_egress_2 nacl_ingress_1; do
        echo "  chain $chain {"
        fillers drop
        echo "    ip daddr 0.0.0.0/0 return"
        echo "    drop"
        echo "  }"
    done
    echo "  chain sg {"
    echo "    ct state established,related accept"
    fillers accept | sed 's/accept$/ct state new accept/'
    echo "    ip saddr 198.18.0.0/15 ct state new accept"
    echo "    drop"
    echo "  }"
    echo "  chain forward {"
    echo "    type filter hook forward priority 0; policy drop;"
    echo "    iifname \"$TAG-r1\" jump nacl_egress_1"
    echo "    iifname \"$TAG-r1\" jump nacl_ingress_2"
    echo "    iifname \"$TAG-r2\" jump nacl_egress_2"
    echo "    iifname \"$TAG-r2\" jump nacl_ingress_1"
    echo "    jump sg"
    echo "  }"
    echo "}"
} >"$WORK/router.nft"
ip netns exec "$RTR" nft -f "$WORK/router.nft"
ip netns exec "$SINK" nft -f - <<NFT
table inet sink {
  counter delivered { }
  chain input {
    type filter hook input priority 0; policy accept;
    udp dport 5201 counter name delivered drop
  }
}
NFT

# Open the flows both ways: one datagram each way per flow.
ip netns exec "$GEN" "$WORK/udpblast" 198.18.2.10 5201 "$FLOWS" 0 "$FLOWS" "$PAYLOAD" >/dev/null
ip netns exec "$SINK" python3 - "$FLOWS" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.2.10", 5201))
for i in range(int(sys.argv[1])):
    s.sendto(b"hello", ("198.18.1.10", 40000 + i))
PY
ip netns exec "$SINK" nft reset counter inet sink delivered >/dev/null

start=$(date +%s.%N)
sent=$(ip netns exec "$GEN" "$WORK/udpblast" 198.18.2.10 5201 "$FLOWS" "$SECONDS_TO_RUN" "$MAX_PACKETS" "$PAYLOAD")
end=$(date +%s.%N)
sleep 0.2
got=$(ip netns exec "$SINK" nft list counter inet sink delivered | awk '/packets/ { print $2 }')
python3 - "$sent" "$got" "$start" "$end" "$RULES" "$FLOWS" <<'PY'
import sys
sent, got, start, end, rules, flows = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
secs = end - start
print(f"linux: {flows} UDP flows, {rules} rules per NACL side and SG, {secs:.2f} s")
print(f"  sent {sent} packets ({sent / secs / 1e6:.3f} Mpps offered), forwarded to the sink {got} ({100.0 * got / max(sent, 1):.1f}%)")
print(f"packets_per_second={got / secs:.0f}")
PY
