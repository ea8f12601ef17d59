#!/bin/sh
# The production side of the real-software fleet: Debian's dnsmasq,
# redis-server and nginx in a network namespace of their own, on the
# addresses catalog.yaml gives them. The scenarios in scenarios/ leak
# back to it (upstream.netns, or rgraph --upstream-netns NETNS).
#
#   prod.sh up NETNS DIR    bring it up; DIR holds configs, logs, pids
#   prod.sh down NETNS DIR  take it down (also what a crashed up left)
#
# Needs root, iproute2, dnsmasq (dnsmasq-base), redis-server, nginx,
# dig (dnsutils), curl and PostgreSQL (postgresql).
set -eu
cmd=${1:?usage: prod.sh up|down NETNS DIR} netns=${2:?netns} dir=${3:?dir}
DNS=10.77.0.53 REDIS=10.77.0.6 ORIGIN=10.77.0.8 PG=10.77.0.5
# PostgreSQL runs as postgres, which cannot enter DIR (a test's 0700
# temporary directory): its data lives in a directory of its own.
pgdir=${TMPDIR:-/tmp}/rgraph-$netns-pg
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

down() {
	for pid in "$dir"/*.pid; do
		[ -e "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
	done
	# Whatever else still runs in the namespace (a daemon whose pid file
	# was not written yet).
	for pid in $(ip netns pids "$netns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
	sleep 0.2
	for pid in $(ip netns pids "$netns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
	ip netns del "$netns" 2>/dev/null || true
	rm -f "$dir"/*.pid
	rm -rf "$pgdir"
}

# wait_for CMD...: retry CMD for up to 5 s.
wait_for() {
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 50 ] || { echo "prod.sh: timed out waiting for: $*" >&2; return 1; }
		sleep 0.1
	done
}

case $cmd in
down) down ;;
up)
	down
	mkdir -p "$dir/www"
	ip netns add "$netns"
	ns() { ip netns exec "$netns" "$@"; }
	ns ip link set lo up
	for a in $DNS $REDIS $ORIGIN $PG; do ns ip addr add "$a/32" dev lo; done

	# dns: authoritative for example.internal, nothing else.
	ns dnsmasq --no-resolv --no-hosts --no-poll --bind-interfaces --listen-address=$DNS \
		--local=/example.internal/ --domain-needed \
		--host-record=ns.example.internal,$DNS \
		--host-record=redis.example.internal,$REDIS \
		--host-record=origin.example.internal,$ORIGIN \
		--host-record=pg.example.internal,$PG \
		--pid-file="$dir/dnsmasq.pid" --log-facility="$dir/dnsmasq.log" --user=root --group=root

	# redis: the cache primary, with the key the client reads.
	ns redis-server --bind $REDIS --port 6379 --protected-mode no --save '' --appendonly no --repl-diskless-sync-delay 0 \
		--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
	wait_for ns redis-cli -h $REDIS -p 6379 ping
	ns redis-cli -h $REDIS -p 6379 set bundle-version 42 >/dev/null

	# origin: nginx serving the bundle.
	printf 'hello from origin\n' >"$dir/www/index.html"
	printf 'bundle 42\n' >"$dir/www/bundle.txt"
	cat >"$dir/origin.conf" <<CONF
daemon on;
user root;
worker_processes 1;
pid $dir/origin.pid;
error_log $dir/origin-error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $dir/tmp-body;
	proxy_temp_path $dir/tmp-proxy;
	fastcgi_temp_path $dir/tmp-fastcgi;
	uwsgi_temp_path $dir/tmp-uwsgi;
	scgi_temp_path $dir/tmp-scgi;
	server { listen $ORIGIN:80; root $dir/www; }
}
CONF
	ns nginx -q -e "$dir/origin-error.log" -c "$dir/origin.conf"
	wait_for ns dig +short +time=1 +tries=1 @$DNS ns.example.internal
	wait_for ns curl -sf http://$ORIGIN/

	# pg: the PostgreSQL primary, trusting every client (replication
	# included), with the table the replica's validation reads.
	mkdir -p "$pgdir" && chown postgres: "$pgdir" && chmod 700 "$pgdir"
	pg() { ns runuser -u postgres -- "$@"; }
	pg "$PGBIN/initdb" -D "$pgdir/data" --auth=trust --no-sync -U postgres >"$dir/pg-initdb.log" 2>&1
	printf 'host all all 0.0.0.0/0 trust\nhost replication all 0.0.0.0/0 trust\n' >>"$pgdir/data/pg_hba.conf"
	pg "$PGBIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/pg.log" -w \
		-o "-k $pgdir -c listen_addresses=$PG -c fsync=off -c shared_buffers=16MB" start >/dev/null
	pg "$PGBIN/psql" -h $PG -U postgres -qc 'create table bundle (version int); insert into bundle values (42)'
	;;
*) echo "usage: prod.sh up|down NETNS DIR" >&2; exit 2 ;;
esac
