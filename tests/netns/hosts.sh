#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The Docker host of examples/docker-host and the Kubernetes node of
# examples/k8s-node with real packets (issue 13).
#
#   hosts.sh --portcullis PROG --probe PROG --backend nft|iptables|apply
#            [--registry FILE] POLICY
#
# POLICY is docker-host.policy or k8s-node.policy (told apart by its
# name); both name documentation addresses only, so they are used as
# they are. The host's namespace carries the interfaces the policy names,
# each a veth to one more namespace (router.sh); every check compares the
# packets with the expectation and with `portcullis explain`.
#
# Docker host: eth0 (uplink, 198.51.100.1, 2001:db8:2::1) to a host on
# the internet, eth1 (192.0.2.1, 2001:db8:100::1) to an admin, docker0
# (203.0.113.1/25, 2001:db8:3::1) and br-1a2b3c, a user-defined network
# (203.0.113.129/25, 2001:db8:4::1), to a container each. Docker's own
# table is a stand-in loaded first (docker-standin.nft, or the iptables
# chains of docker-standin.v4 with the iptables backend): its DNAT of a
# published port and its masquerade must work through the policy, and it
# must be left as it was.
#   - SSH from the admins only, HTTP from anywhere, another port dropped;
#   - containers to the internet (masqueraded by Docker for IPv4) and to
#     each other across bridges; the internet to the containers (published
#     ports: after Docker's DNAT, and directly) on both bridges;
#   - between eth0 and eth1 (no container) dropped both ways.
# Kubernetes node: eth0 (198.51.100.1, 2001:db8:200::1) to another node,
# eth1 (192.0.2.1, 2001:db8:100::1) to an admin outside the cluster,
# cali1a2b3c (203.0.113.1/25, 2001:db8:300::1) and flannel.1
# (203.0.113.129/25, 2001:db8:300:1::1) to a pod each.
#   - SSH from the admins (IPv4 only, as the policy says), the kubelet and
#     Calico's BGP from the nodes only, NodePorts from anywhere and the
#     port below them dropped;
#   - pods to the node network and back, pod to pod across the two CNI
#     interfaces, the outside to a pod; not masqueraded;
#   - between the admin and the node network (no pod) dropped both ways.
# Exit: 0 as expected, 1 a mismatch, 77 skipped, 99 setup failure.
# router_setup names the namespaces by indirection (printf -v):
# shellcheck source=tests/netns/router.sh disable=SC2154
. "$(dirname "$0")/router.sh"
here=$(cd "$(dirname "$0")" && pwd)
T=3000

# The stand-in's state: what must be the same after the policy is loaded.
standin_state() {
	if [ "$backend" = iptables ]; then
		in_fw iptables -t nat -S && in_fw iptables -S DOCKER-USER &&
			in_fw iptables -S FORWARD | head -n 2
	else
		in_fw nft list table ip pcdocker
	fi
}

docker_host() {
	router_setup dh net adm c1 c2
	{
		link "$net" eth0 eth0 198.51.100.1 198.51.100.2 2001:db8:2::1 2001:db8:2::2 &&
		link "$adm" eth1 eth0 192.0.2.1 192.0.2.2 2001:db8:100::1 2001:db8:100::2 &&
		link "$c1" docker0 eth0 203.0.113.1 203.0.113.2 2001:db8:3::1 2001:db8:3::2 25 &&
		link "$c2" br-1a2b3c eth0 203.0.113.129 203.0.113.130 2001:db8:4::1 2001:db8:4::2 25
	} || setup_fail "network setup"
	serve "$fw" host 22 80 443 8081
	serve "$net" net 80
	serve "$adm" adm 80
	serve "$c1" c1 80
	serve "$c2" c2 80
	for a in 198.51.100.2 2001:db8:2::2 203.0.113.130 2001:db8:4::2; do link_ready "$c1" "$a"; done
	for a in 192.0.2.2 2001:db8:100::2 203.0.113.2 2001:db8:3::2; do link_ready "$net" "$a"; done

	if [ "$backend" = iptables ]; then
		in_fw iptables-restore --noflush "$here/docker-standin.v4" || setup_fail "iptables-restore docker-standin.v4"
	else
		command -v nft >/dev/null || skip "nft is not installed (needed for Docker's stand-in table)"
		in_fw nft -f "$here/docker-standin.nft" || setup_fail "nft -f docker-standin.nft"
	fi
	standin_state >"$tmp/standin.before" || setup_fail "listing Docker's stand-in"
	load_policy

	local fam up net_ adm_ fwa c1_ c2_ seen
	for fam in 4 6; do
		if [ $fam = 4 ]; then
			up=198.51.100.1 net_=198.51.100.2 fwa=192.0.2.1 adm_=192.0.2.2
			c1_=203.0.113.2 c2_=203.0.113.130 seen=198.51.100.1
		else
			up=2001:db8:2::1 net_=2001:db8:2::2 fwa=2001:db8:100::1 adm_=2001:db8:100::2
			c1_=2001:db8:3::2 c2_=2001:db8:4::2 seen=2001:db8:3::2
		fi
		check "IPv$fam SSH from an admin" "$adm" tcp "$fwa" 22 $T -- accepted \
			"in on eth1 tcp $adm_ -> $(b "$fwa" 22)" allow
		check "IPv$fam SSH from the internet is dropped" "$net" tcp "$up" 22 1000 -- dropped \
			"in on eth0 tcp $net_ -> $(b "$up" 22)" deny
		check "IPv$fam HTTP from the internet" "$net" tcp "$up" 80 $T -- accepted \
			"in on eth0 tcp $net_ -> $(b "$up" 80)" allow
		check "IPv$fam another port of the host is dropped" "$net" tcp "$up" 8081 1000 -- dropped \
			"in on eth0 tcp $net_ -> $(b "$up" 8081)" deny
		check "IPv$fam container on docker0 to the internet (the server sees $seen)" "$c1" \
			peer "$net_" 80 $T -- "$seen " \
			"forward on docker0 out on eth0 tcp $c1_ -> $(b "$net_" 80)" allow
		check "IPv$fam container on docker0 to one on br-1a2b3c" "$c1" tcp "$c2_" 80 $T -- accepted \
			"forward on docker0 out on br-1a2b3c tcp $c1_ -> $(b "$c2_" 80)" allow
		check "IPv$fam the internet to a container on docker0" "$net" peer "$c1_" 80 $T -- "$net_ " \
			"forward on eth0 out on docker0 tcp $net_ -> $(b "$c1_" 80)" allow
		check "IPv$fam the internet to a container on br-1a2b3c" "$net" tcp "$c2_" 80 $T -- accepted \
			"forward on eth0 out on br-1a2b3c tcp $net_ -> $(b "$c2_" 80)" allow
		check "IPv$fam the internet to the admin (no bridge) is dropped" "$net" tcp "$adm_" 80 1000 -- dropped \
			"forward on eth0 out on eth1 tcp $net_ -> $(b "$adm_" 80)" deny
		check "IPv$fam the admin to the internet (no bridge) is dropped" "$adm" tcp "$net_" 80 1000 -- dropped \
			"forward on eth1 out on eth0 tcp $adm_ -> $(b "$net_" 80)" deny
	done
	# Docker's DNAT happens before the policy's forward chain, which sees
	# the translated packet: explain is asked about that one.
	check "IPv4 published port: the host's 8080 reaches the container's 80 (Docker's DNAT)" "$net" \
		peer 198.51.100.1 8080 $T -- "198.51.100.2 " \
		"forward on eth0 out on docker0 tcp 198.51.100.2 -> 203.0.113.2:80" allow

	total=$((total + 1))
	standin_state >"$tmp/standin.after"
	if diff -u "$tmp/standin.before" "$tmp/standin.after"; then
		echo "ok   Docker's stand-in rules are as they were"
	else
		echo "FAIL Docker's stand-in rules changed when the policy was loaded"
		fails=$((fails + 1))
	fi
}

k8s_node() {
	router_setup k8 node adm pod pod2
	{
		link "$node" eth0 eth0 198.51.100.1 198.51.100.2 2001:db8:200::1 2001:db8:200::2 &&
		link "$adm" eth1 eth0 192.0.2.1 192.0.2.2 2001:db8:100::1 2001:db8:100::2 &&
		link "$pod" cali1a2b3c eth0 203.0.113.1 203.0.113.2 2001:db8:300::1 2001:db8:300::2 25 &&
		link "$pod2" flannel.1 eth0 203.0.113.129 203.0.113.130 2001:db8:300:1::1 2001:db8:300:1::2 25
	} || setup_fail "network setup"
	serve "$fw" node0 22 179 10250 29999 30080
	serve "$node" node 80
	serve "$adm" adm 80
	serve "$pod" pod 80
	serve "$pod2" pod2 80
	for a in 198.51.100.2 2001:db8:200::2 203.0.113.130 2001:db8:300:1::2; do link_ready "$pod" "$a"; done
	for a in 192.0.2.2 2001:db8:100::2 203.0.113.2 2001:db8:300::2; do link_ready "$node" "$a"; done
	load_policy

	local fam fwn node_ fwa adm_ pod_ pod2_ ssh sshv
	for fam in 4 6; do
		if [ $fam = 4 ]; then
			fwn=198.51.100.1 node_=198.51.100.2 fwa=192.0.2.1 adm_=192.0.2.2
			pod_=203.0.113.2 pod2_=203.0.113.130 ssh=accepted sshv=allow
		else
			fwn=2001:db8:200::1 node_=2001:db8:200::2 fwa=2001:db8:100::1 adm_=2001:db8:100::2
			pod_=2001:db8:300::2 pod2_=2001:db8:300:1::2 ssh=dropped sshv=deny
		fi
		check "IPv$fam SSH from the admin: $ssh" "$adm" tcp "$fwa" 22 $T -- $ssh \
			"in on eth1 tcp $adm_ -> $(b "$fwa" 22)" $sshv
		check "IPv$fam kubelet from a node" "$node" tcp "$fwn" 10250 $T -- accepted \
			"in on eth0 tcp $node_ -> $(b "$fwn" 10250)" allow
		check "IPv$fam kubelet from outside the cluster is dropped" "$adm" tcp "$fwa" 10250 1000 -- dropped \
			"in on eth1 tcp $adm_ -> $(b "$fwa" 10250)" deny
		check "IPv$fam Calico BGP from a node" "$node" tcp "$fwn" 179 $T -- accepted \
			"in on eth0 tcp $node_ -> $(b "$fwn" 179)" allow
		check "IPv$fam a NodePort from outside" "$adm" tcp "$fwa" 30080 $T -- accepted \
			"in on eth1 tcp $adm_ -> $(b "$fwa" 30080)" allow
		check "IPv$fam the port below the NodePorts is dropped" "$adm" tcp "$fwa" 29999 1000 -- dropped \
			"in on eth1 tcp $adm_ -> $(b "$fwa" 29999)" deny
		check "IPv$fam pod (cali*) to the node network, not masqueraded" "$pod" peer "$node_" 80 $T -- "$pod_ " \
			"forward on cali1a2b3c out on eth0 tcp $pod_ -> $(b "$node_" 80)" allow
		check "IPv$fam the node network to a pod (cali*)" "$node" peer "$pod_" 80 $T -- "$node_ " \
			"forward on eth0 out on cali1a2b3c tcp $node_ -> $(b "$pod_" 80)" allow
		check "IPv$fam pod to pod (cali* to flannel*)" "$pod" tcp "$pod2_" 80 $T -- accepted \
			"forward on cali1a2b3c out on flannel.1 tcp $pod_ -> $(b "$pod2_" 80)" allow
		check "IPv$fam outside to a pod (flannel*)" "$adm" tcp "$pod2_" 80 $T -- accepted \
			"forward on eth1 out on flannel.1 tcp $adm_ -> $(b "$pod2_" 80)" allow
		check "IPv$fam outside to the node network (no pod) is dropped" "$adm" tcp "$node_" 80 1000 -- dropped \
			"forward on eth1 out on eth0 tcp $adm_ -> $(b "$node_" 80)" deny
		check "IPv$fam the node network to outside (no pod) is dropped" "$node" tcp "$adm_" 80 1000 -- dropped \
			"forward on eth0 out on eth1 tcp $node_ -> $(b "$adm_" 80)" deny
	done
}

case $(basename "$policy") in
docker-host*) docker_host ;;
k8s-node*) k8s_node ;;
*) setup_fail "$policy: neither a docker-host nor a k8s-node policy" ;;
esac
summary
