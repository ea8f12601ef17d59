//go:build ignore

/* rgraph's first-hop recorder and allowlist enforcer. Loaded once per
 * process by collector.go and attached to one cgroup v2 directory per
 * run; see doc.go for what each program does and why.
 *
 * Every program serves every run at once. A run is found by the cgroup
 * of the current task (the attached cgroup or one of its descendants) in
 * the runs map; its rules and its recording live in per-run inner maps,
 * indexed by the run's slot. */

#include "probe.h"

char __license[] SEC("license") = "Dual MIT/GPL";

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AF_NETLINK 16
#define AF_ALG 38
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_UDPLITE 136
#define IPPROTO_MPTCP 262
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7
#define EPERM 1
#define EACCES 13
#define ENOENT 2
#define EAGAIN 11
#define EEXIST 17
#define ENOTDIR 20
#define ENETUNREACH 101
#define ECONNRESET 104
#define ETIMEDOUT 110
#define ECONNREFUSED 111
#define EHOSTUNREACH 113
#define EINPROGRESS 115

#define TASK_COMM_LEN 16
#define UNIX_PATH_MAX 108
#define MAX_RANGES 16
#define MAX_RUNS 256  /* runs attached at once; collector.go: maxRuns */
#define MAX_LEVELS 32 /* cgroup depth searched for a run */

/* Values of inet_key.proto. */
enum proto { P_TCP = 1, P_UDP = 2, P_RAW = 3 };
/* Values of the verdict fields. */
enum verdict { V_ALLOWED = 1, V_DENIED = 2, V_REDIRECTED = 3 };
/* Values of the failure fields: how a denied attempt fails. */
enum failure { F_NONE = 0, F_EPERM = 1, F_DROPPED = 2 };
/* How an allowed TCP or unix connect ended; indexes attempt_val.outcome.
 * O_ABSENT: no socket at that path (unix only). */
enum outcome { O_ESTABLISHED, O_REFUSED, O_TIMEOUT, O_UNREACHABLE, O_RESET, O_ABANDONED, O_ERROR, O_ABSENT, O_N };
/* Loss counters of a run (per CPU, only ever increased while the run is
 * attached), at counters[slot * C_N + counter]. */
enum counter {
	C_MAP_FULL,     /* an attempt did not fit in its dedup map */
	C_RINGBUF_FULL, /* a ring buffer reservation failed */
	C_LOST,         /* both: the attempt is recorded nowhere */
	C_N,
};
/* counters[G_UNATTRIBUTED] counts calls a hook refused because the
 * caller's cgroup belongs to no run (a process that left its run's cgroup
 * but kept a socket created there). */
#define G_UNATTRIBUTED (MAX_RUNS * C_N)
/* Event kinds on the ring buffer. */
enum kind { EV_INET = 1, EV_UNIX = 2, EV_OUTCOME = 3, EV_UNIX_OUTCOME = 4 };
/* Event flags. */
#define EVF_OVERFLOW 1 /* the attempt is not in the dedup map */

/* The key of a deduplicated TCP, UDP or raw-socket attempt. */
struct inet_key {
	__u8 proto;
	__u8 verdict;
	__u8 failure;
	__u8 family;     /* 4 or 6; raw: the socket's address family */
	__u16 port;      /* host order; raw: the socket type */
	__u16 raw_proto; /* raw: the socket protocol */
	__u8 addr[16];   /* IPv4 in the first 4 bytes */
	char comm[TASK_COMM_LEN];
};

/* The key of a deduplicated unix socket attempt. path is canonical: an
 * abstract name starts with '@', and every byte after the name is 0. */
struct unix_key {
	__u8 verdict;
	__u8 failure;
	__u8 pad[6];
	char comm[TASK_COMM_LEN];
	char path[UNIX_PATH_MAX];
};

/* What the dedup maps hold per key. */
struct attempt_val {
	__u64 count;
	__u64 first_ns; /* CLOCK_MONOTONIC */
	__u64 cgroup;
	__u32 pid;      /* tgid of the first process seen */
	__u32 run;      /* the run that recorded it */
	__u64 outcome[O_N];
};

struct event_hdr {
	__u8 kind;
	__u8 flags;
	__u8 outcome;
	__u8 pad;
	__u32 pid;
	__u64 ts;
	__u64 cgroup;
	__u32 run; /* the run's id */
	__u32 pad2;
};

struct inet_event {
	struct event_hdr hdr;
	struct inet_key key;
};

struct unix_event {
	struct event_hdr hdr;
	struct unix_key key;
};

/* Per-socket memory of a DNS redirect: the resolver the caller addressed
 * and the stub the socket was sent to instead. */
struct origin {
	__u8 family; /* 4 or 6 */
	__u8 stub_family;
	__u16 port;  /* host order */
	__u32 pid;
	__u64 cgroup;
	__u8 addr[16];
	char comm[TASK_COMM_LEN];
	__u32 run;
	__u16 stub_port; /* network order */
	__u16 pad;
	__u32 stub_addr[4]; /* network order; IPv4 in the first word */
};

/* The key under which the stub finds an origin: the run and the client's
 * source (runs in different namespaces may share addresses). */
struct client_key {
	__u32 run;
	__u8 proto; /* P_TCP or P_UDP */
	__u8 family;
	__u16 port; /* host order */
	__u8 addr[16];
};

/* A peer that sent a datagram to a socket: replies to it are not first
 * hops. The socket cookie is unique for the machine's uptime. */
struct peer_key {
	__u64 cookie;
	__u8 family;
	__u8 pad;
	__u16 port; /* host order */
	__u8 addr[16];
	__u32 pad2;
};

struct lpm_net_key {
	__u32 prefixlen;
	__u8 data[17]; /* family tag 4 or 6, then the address */
};

struct port_range {
	__u16 lo;
	__u16 hi;
	__u8 protos; /* bit 0 TCP, bit 1 UDP */
	__u8 pad[3];
};

struct net_rule {
	__u32 n;
	__u32 pad;
	struct port_range r[MAX_RANGES];
};

struct lpm_unix_key {
	__u32 prefixlen;
	char path[UNIX_PATH_MAX];
};

/* socket() arguments of threads in a run, between enter and exit. */
struct sock_args {
	__u32 family;
	__u32 type;
	__u32 protocol;
	__u32 hooked; /* sock_create saw (and recorded) this call */
	__u32 run;
	__u32 slot;
};

/* An allowed TCP connect being followed to its outcome. */
struct conn {
	__u32 run;
	__u32 slot;
	struct inet_key key;
};

/* An allowed unix connect being followed to its outcome. */
struct unix_conn {
	__u32 run;
	__u32 slot;
	struct unix_key key;
};

/* A run's settings; addresses and ports in network byte order. */
struct config {
	__u8 allow_all;
	__u8 blackhole;
	__u8 dns4_on;
	__u8 dns6_on;
	__u8 bh4_on;
	__u8 bh6_on;
	__u16 dns4_port;
	__u16 dns6_port;
	__u16 pad;
	__u32 dns4_ip;
	__u32 bh4_ip;
	__u32 dns6_ip[4];
	__u32 bh6_ip[4];
};

/* A run: its id (unique while the collector lives, carried by events),
 * its slot in the per-run tables, and its settings. */
struct run {
	__u32 id;
	__u32 slot;
	struct config cfg;
};

/* Runs by the id of the cgroup they are attached to. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_RUNS);
	__type(key, __u64);
	__type(value, struct run);
} runs SEC(".maps");

/* The id of the run holding each slot (0: free), so that tracepoints
 * following a connect can tell a slot taken over by a later run. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_RUNS);
	__type(key, __u32);
	__type(value, __u32);
} slot_runs SEC(".maps");

/* Per-run tables, by slot. The loader creates a slot's inner maps the
 * first time a run uses the slot (replacing an inner map waits for an
 * RCU grace period, tens of milliseconds) and empties them when the run
 * detaches. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, MAX_RUNS);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);
		__uint(map_flags, BPF_F_NO_PREALLOC);
		__uint(max_entries, 4096);
		__type(key, struct lpm_net_key);
		__type(value, struct net_rule);
	});
} net_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, MAX_RUNS);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);
		__uint(map_flags, BPF_F_NO_PREALLOC);
		__uint(max_entries, 1024);
		__type(key, struct lpm_unix_key);
		__type(value, __u8);
	});
} unix_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, MAX_RUNS);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(map_flags, BPF_F_NO_PREALLOC);
		__uint(max_entries, 16384);
		__type(key, struct inet_key);
		__type(value, struct attempt_val);
	});
} inet_attempts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, MAX_RUNS);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(map_flags, BPF_F_NO_PREALLOC);
		__uint(max_entries, 4096);
		__type(key, struct unix_key);
		__type(value, struct attempt_val);
	});
} unix_attempts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_RUNS * C_N + 1);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct origin);
} origins SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct client_key);
	__type(value, struct origin);
} dns_clients SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct peer_key);
	__type(value, __u32); /* the run's id */
} peers SEC(".maps");

/* Allowed TCP connects between the hook and SYN_SENT, by thread. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct conn);
} pending SEC(".maps");

/* Allowed TCP connects in SYN_SENT, by kernel socket address. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct conn);
} connecting SEC(".maps");

/* Allowed unix connects between the hook and the syscall's exit, by
 * thread. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct unix_conn);
} unix_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct sock_args);
} socket_calls SEC(".maps");

/* Scratch space for unix paths, too big for the 512-byte stack. */
struct unix_scratch {
	struct unix_key key;
	struct lpm_unix_key lpm;
	struct unix_conn conn;
	char path[UNIX_PATH_MAX + 8]; /* room for a NUL after a full sun_path */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unix_scratch);
} scratch SEC(".maps");

/* Put the event types into BTF so bpf2go generates Go types for them. */
const struct inet_event *unused_inet_event __attribute__((unused));
const struct unix_event *unused_unix_event __attribute__((unused));
const struct attempt_val *unused_attempt_val __attribute__((unused));
const struct lpm_net_key *unused_lpm_net_key __attribute__((unused));
const struct net_rule *unused_net_rule __attribute__((unused));
const struct lpm_unix_key *unused_lpm_unix_key __attribute__((unused));

/* current_run returns the run of the calling task: the run attached to
 * its cgroup or to the nearest ancestor that has one (the loader never
 * attaches one run inside another). */
static __always_inline struct run *current_run(void)
{
	__u64 id = bpf_get_current_cgroup_id();
	struct run *r = bpf_map_lookup_elem(&runs, &id);
	if (r)
		return r;
	for (int level = 1; level < MAX_LEVELS; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			return NULL;
		r = bpf_map_lookup_elem(&runs, &id);
		if (r)
			return r;
	}
	return NULL;
}

/* slot_holds reports whether slot still belongs to run. */
static __always_inline int slot_holds(__u32 slot, __u32 run)
{
	__u32 *id = bpf_map_lookup_elem(&slot_runs, &slot);
	return id && *id == run;
}

static __always_inline void bump(__u32 slot, __u32 c)
{
	__u32 i = slot * C_N + c;
	__u64 *v = bpf_map_lookup_elem(&counters, &i);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int unattributed(void)
{
	__u32 i = G_UNATTRIBUTED;
	__u64 *v = bpf_map_lookup_elem(&counters, &i);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

static __always_inline void fill_hdr(struct event_hdr *h, __u8 kind, __u8 flags, __u32 run)
{
	h->kind = kind;
	h->flags = flags;
	h->outcome = 0;
	h->pad = 0;
	h->pid = bpf_get_current_pid_tgid() >> 32;
	h->ts = bpf_ktime_get_ns();
	h->cgroup = bpf_get_current_cgroup_id();
	h->run = run;
	h->pad2 = 0;
}

/* count counts an attempt in a run's dedup map (NULL: the run has none,
 * which only a detaching run can show). It returns -1 when the key was
 * already there (nothing more to do), 0 when it added the key, and
 * EVF_OVERFLOW when the map is full: the ring buffer must carry it. */
static __always_inline int count(void *map, const void *k, __u32 run, __u32 slot)
{
	if (!map)
		return EVF_OVERFLOW;
	struct attempt_val *v = bpf_map_lookup_elem(map, k);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		return -1;
	}
	struct attempt_val nv = {
		.count = 1,
		.first_ns = bpf_ktime_get_ns(),
		.cgroup = bpf_get_current_cgroup_id(),
		.pid = bpf_get_current_pid_tgid() >> 32,
		.run = run,
	};
	long err = bpf_map_update_elem(map, k, &nv, BPF_NOEXIST);
	if (err == -EEXIST) { /* another CPU added it meanwhile */
		v = bpf_map_lookup_elem(map, k);
		if (v)
			__sync_fetch_and_add(&v->count, 1);
		return -1;
	}
	if (err) {
		bump(slot, C_MAP_FULL);
		return EVF_OVERFLOW;
	}
	return 0;
}

/* ringbuf_full counts a failed reservation, and a loss when the attempt
 * is in no map either. */
static __always_inline void ringbuf_full(__u32 slot, int flags)
{
	bump(slot, C_RINGBUF_FULL);
	if (flags & EVF_OVERFLOW)
		bump(slot, C_LOST);
}

/* record_inet counts an attempt in the run's dedup map and announces a
 * new key (or one the full map could not take) on the ring buffer. */
static __always_inline void record_inet(__u32 run, __u32 slot, struct inet_key *k)
{
	void *m = bpf_map_lookup_elem(&inet_attempts, &slot);
	int flags = count(m, k, run, slot);
	if (flags < 0)
		return;
	struct inet_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ringbuf_full(slot, flags);
		return;
	}
	fill_hdr(&e->hdr, EV_INET, flags, run);
	__builtin_memcpy(&e->key, k, sizeof(*k));
	bpf_ringbuf_submit(e, 0);
}

/* record_unix is record_inet for unix socket attempts. */
static __always_inline void record_unix(__u32 run, __u32 slot, struct unix_key *k)
{
	void *m = bpf_map_lookup_elem(&unix_attempts, &slot);
	int flags = count(m, k, run, slot);
	if (flags < 0)
		return;
	struct unix_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ringbuf_full(slot, flags);
		return;
	}
	fill_hdr(&e->hdr, EV_UNIX, flags, run);
	__builtin_memcpy(&e->key, k, sizeof(*k));
	bpf_ringbuf_submit(e, 0);
}

/* record_outcome adds how an allowed TCP connect ended to its attempt. */
static __always_inline void record_outcome(struct conn *c, __u32 o)
{
	__u32 run = c->run, slot = c->slot;
	if (o >= O_N || !slot_holds(slot, run))
		return;
	void *m = bpf_map_lookup_elem(&inet_attempts, &slot);
	if (m) {
		struct attempt_val *v = bpf_map_lookup_elem(m, &c->key);
		if (v && v->run == run) {
			__sync_fetch_and_add(&v->outcome[o], 1);
			return;
		}
	}
	struct inet_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ringbuf_full(slot, EVF_OVERFLOW);
		return;
	}
	fill_hdr(&e->hdr, EV_OUTCOME, EVF_OVERFLOW, run);
	e->hdr.outcome = o;
	e->key = c->key;
	bpf_ringbuf_submit(e, 0);
}

/* record_unix_outcome adds how an allowed unix connect ended to its
 * attempt. */
static __always_inline void record_unix_outcome(struct unix_conn *c, __u32 o)
{
	__u32 run = c->run, slot = c->slot;
	if (o >= O_N || !slot_holds(slot, run))
		return;
	void *m = bpf_map_lookup_elem(&unix_attempts, &slot);
	if (m) {
		struct attempt_val *v = bpf_map_lookup_elem(m, &c->key);
		if (v && v->run == run) {
			__sync_fetch_and_add(&v->outcome[o], 1);
			return;
		}
	}
	struct unix_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ringbuf_full(slot, EVF_OVERFLOW);
		return;
	}
	fill_hdr(&e->hdr, EV_UNIX_OUTCOME, EVF_OVERFLOW, run);
	e->hdr.outcome = o;
	__builtin_memcpy(&e->key, &c->key, sizeof(c->key));
	bpf_ringbuf_submit(e, 0);
}

/* allowed checks a destination against a run's address rules. addr holds
 * the address (IPv4 in its first 4 bytes), port is in host order. */
static __always_inline int allowed(struct run *r, __u8 family, const __u8 *addr, __u16 port, __u8 proto)
{
	if (r->cfg.allow_all)
		return 1;
	__u32 slot = r->slot;
	void *rules = bpf_map_lookup_elem(&net_rules, &slot);
	if (!rules)
		return 0;
	struct lpm_net_key lk = {};
	lk.prefixlen = 8 + (family == 4 ? 32 : 128);
	lk.data[0] = family;
	__builtin_memcpy(&lk.data[1], addr, 16);
	struct net_rule *nr = bpf_map_lookup_elem(rules, &lk);
	if (!nr)
		return 0;
	__u8 bit = proto == P_TCP ? 1 : 2;
	for (int i = 0; i < MAX_RANGES; i++) {
		if (i >= nr->n)
			break;
		if (port >= nr->r[i].lo && port <= nr->r[i].hi && (nr->r[i].protos & bit))
			return 1;
	}
	return 0;
}

static __always_inline __u8 proto_of(struct bpf_sock_addr *ctx)
{
	__u32 p = ctx->protocol;
	if (p == IPPROTO_TCP || p == IPPROTO_MPTCP)
		return P_TCP;
	if (p == IPPROTO_UDP || p == IPPROTO_UDPLITE)
		return P_UDP;
	return 0;
}

/* remember_origin keeps, with the socket, the resolver the caller
 * addressed (k) and the stub it is sent to instead. */
static __always_inline void remember_origin(struct bpf_sock_addr *ctx, struct inet_key *k, __u32 run, __u8 stub_family,
					    const __u32 *stub, __u16 stub_port)
{
	struct origin *o = bpf_sk_storage_get(&origins, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o)
		return;
	o->family = k->family;
	o->port = k->port;
	o->pid = bpf_get_current_pid_tgid() >> 32;
	o->cgroup = bpf_get_current_cgroup_id();
	__builtin_memcpy(o->addr, k->addr, 16);
	__builtin_memcpy(o->comm, k->comm, TASK_COMM_LEN);
	o->run = run;
	o->stub_family = stub_family;
	o->stub_port = stub_port;
	o->stub_addr[0] = stub[0];
	o->stub_addr[1] = stub_family == 6 ? stub[1] : 0;
	o->stub_addr[2] = stub_family == 6 ? stub[2] : 0;
	o->stub_addr[3] = stub_family == 6 ? stub[3] : 0;
}

/* addr_of reads the address of a sock_addr context the way attempts key
 * it: IPv4 (also v4-mapped IPv6) in the first 4 bytes with family 4. It
 * returns the family. */
static __always_inline __u8 addr_of(struct bpf_sock_addr *ctx, int v6, __u8 *addr)
{
	if (!v6) {
		__u32 a = ctx->user_ip4;
		__builtin_memcpy(addr, &a, 4);
		return 4;
	}
	__u32 a0 = ctx->user_ip6[0], a1 = ctx->user_ip6[1], a2 = ctx->user_ip6[2], a3 = ctx->user_ip6[3];
	if (a0 == 0 && a1 == 0 && a2 == 0xffff0000) { /* ::ffff:a.b.c.d, network order */
		__builtin_memcpy(addr, &a3, 4);
		return 4;
	}
	__builtin_memcpy(&addr[0], &a0, 4);
	__builtin_memcpy(&addr[4], &a1, 4);
	__builtin_memcpy(&addr[8], &a2, 4);
	__builtin_memcpy(&addr[12], &a3, 4);
	return 6;
}

/* handle_inet records and judges a connect or an unconnected sendmsg. v6
 * says which context fields hold the address. It returns 1 to let the
 * call proceed (possibly rewritten) and 0 to fail it with EPERM. */
static __always_inline int handle_inet(struct bpf_sock_addr *ctx, int v6, int is_connect)
{
	struct run *r = current_run();
	if (!r)
		return unattributed();
	__u32 run = r->id, slot = r->slot;
	__u8 proto = proto_of(ctx);
	if (!proto)
		return r->cfg.allow_all ? 1 : 0; /* e.g. ICMP sockets, judged at creation */

	/* Branch on the locals fam and port, not on k's fields: k escapes to
	 * bpf_get_current_comm, so the compiler (and the verifier) would no
	 * longer know them, and keep IPv6 context writes in IPv4 programs. */
	struct inet_key k = {};
	__u8 fam = addr_of(ctx, v6, k.addr);
	__u16 port = bpf_ntohs(ctx->user_port);

	/* A datagram to a peer that sent to this socket first is a reply,
	 * not a first hop (a UDP server answering a client). */
	if (proto == P_UDP) {
		struct peer_key pk = {};
		pk.cookie = bpf_get_socket_cookie(ctx);
		pk.family = fam;
		pk.port = port;
		__builtin_memcpy(pk.addr, k.addr, 16);
		if (bpf_map_lookup_elem(&peers, &pk))
			return 1;
	}

	k.proto = proto;
	k.family = fam;
	k.port = port;
	bpf_get_current_comm(k.comm, sizeof(k.comm));

	/* Every port-53 attempt goes to the stub, which records the name. */
	if (port == 53) {
		if (fam == 4 && r->cfg.dns4_on) {
			__u32 stub[4] = {r->cfg.dns4_ip};
			__u16 sport = r->cfg.dns4_port;
			k.verdict = V_REDIRECTED;
			remember_origin(ctx, &k, run, 4, stub, sport);
			if (!v6) {
				ctx->user_ip4 = stub[0];
			} else {
				ctx->user_ip6[0] = 0;
				ctx->user_ip6[1] = 0;
				ctx->user_ip6[2] = 0xffff0000;
				ctx->user_ip6[3] = stub[0];
			}
			ctx->user_port = sport;
			record_inet(run, slot, &k);
			return 1;
		}
		if (v6 && fam == 6 && r->cfg.dns6_on) {
			__u32 stub[4] = {r->cfg.dns6_ip[0], r->cfg.dns6_ip[1], r->cfg.dns6_ip[2], r->cfg.dns6_ip[3]};
			__u16 sport = r->cfg.dns6_port;
			k.verdict = V_REDIRECTED;
			remember_origin(ctx, &k, run, 6, stub, sport);
			ctx->user_ip6[0] = stub[0];
			ctx->user_ip6[1] = stub[1];
			ctx->user_ip6[2] = stub[2];
			ctx->user_ip6[3] = stub[3];
			ctx->user_port = sport;
			record_inet(run, slot, &k);
			return 1;
		}
	}

	if (allowed(r, fam, k.addr, port, proto)) {
		k.verdict = V_ALLOWED;
		record_inet(run, slot, &k);
		if (is_connect && proto == P_TCP) {
			__u64 tid = bpf_get_current_pid_tgid();
			struct conn c = {.run = run, .slot = slot, .key = k};
			bpf_map_update_elem(&pending, &tid, &c, BPF_ANY);
		}
		return 1;
	}

	k.verdict = V_DENIED;
	if (r->cfg.blackhole) {
		if (fam == 4 && r->cfg.bh4_on) {
			__u32 bh = r->cfg.bh4_ip;
			k.failure = F_DROPPED;
			record_inet(run, slot, &k);
			if (!v6) {
				ctx->user_ip4 = bh;
			} else {
				ctx->user_ip6[0] = 0;
				ctx->user_ip6[1] = 0;
				ctx->user_ip6[2] = 0xffff0000;
				ctx->user_ip6[3] = bh;
			}
			return 1;
		}
		if (v6 && fam == 6 && r->cfg.bh6_on) {
			__u32 b0 = r->cfg.bh6_ip[0], b1 = r->cfg.bh6_ip[1], b2 = r->cfg.bh6_ip[2], b3 = r->cfg.bh6_ip[3];
			k.failure = F_DROPPED;
			record_inet(run, slot, &k);
			ctx->user_ip6[0] = b0;
			ctx->user_ip6[1] = b1;
			ctx->user_ip6[2] = b2;
			ctx->user_ip6[3] = b3;
			return 1;
		}
	}
	k.failure = F_EPERM;
	record_inet(run, slot, &k);
	return 0;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx) { return handle_inet(ctx, 0, 1); }

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx) { return handle_inet(ctx, 1, 1); }

SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx) { return handle_inet(ctx, 0, 0); }

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx) { return handle_inet(ctx, 1, 0); }

/* restore4 makes a reply from the stub, or the peer of a redirected
 * connected socket, look like the resolver the caller addressed. It
 * returns 1 when it rewrote the address. */
static __always_inline int restore4(struct bpf_sock_addr *ctx)
{
	struct origin *o = bpf_sk_storage_get(&origins, ctx->sk, 0, 0);
	if (!o || o->stub_family != 4 || o->family != 4)
		return 0;
	if (ctx->user_ip4 != o->stub_addr[0] || ctx->user_port != o->stub_port)
		return 0;
	__u32 a;
	__builtin_memcpy(&a, o->addr, 4);
	ctx->user_ip4 = a;
	ctx->user_port = bpf_htons(o->port);
	return 1;
}

static __always_inline int restore6(struct bpf_sock_addr *ctx)
{
	struct origin *o = bpf_sk_storage_get(&origins, ctx->sk, 0, 0);
	if (!o)
		return 0;
	__u32 a0 = ctx->user_ip6[0], a1 = ctx->user_ip6[1], a2 = ctx->user_ip6[2], a3 = ctx->user_ip6[3];
	__u32 port = ctx->user_port;
	__u8 fam = o->family;
	if (port != o->stub_port)
		return 0;
	if (o->stub_family == 4) {
		if (fam != 4 || a0 != 0 || a1 != 0 || a2 != 0xffff0000 || a3 != o->stub_addr[0])
			return 0;
	} else if (o->stub_family == 6) {
		if (fam != 6 || a0 != o->stub_addr[0] || a1 != o->stub_addr[1] || a2 != o->stub_addr[2] ||
		    a3 != o->stub_addr[3])
			return 0;
	} else {
		return 0;
	}
	__u32 w[4];
	__builtin_memcpy(w, o->addr, 16);
	if (fam == 4) {
		ctx->user_ip6[3] = w[0];
	} else {
		ctx->user_ip6[0] = w[0];
		ctx->user_ip6[1] = w[1];
		ctx->user_ip6[2] = w[2];
		ctx->user_ip6[3] = w[3];
	}
	ctx->user_port = bpf_htons(o->port);
	return 1;
}

/* remember_peer notes the sender of a datagram the socket received, so
 * that replies to it pass (see handle_inet). */
static __always_inline void remember_peer(struct bpf_sock_addr *ctx, int v6)
{
	struct run *r = current_run();
	if (!r)
		return;
	__u32 run = r->id;
	struct peer_key pk = {};
	pk.family = addr_of(ctx, v6, pk.addr);
	pk.port = bpf_ntohs(ctx->user_port);
	pk.cookie = bpf_get_socket_cookie(ctx);
	if (bpf_map_lookup_elem(&peers, &pk))
		return;
	bpf_map_update_elem(&peers, &pk, &run, BPF_ANY);
}

/* recvmsg4/6 run when a UDP socket in a run receives a datagram with its
 * source address: stub replies are made to look like they came from the
 * resolver; any other sender is remembered as a peer. */
SEC("cgroup/recvmsg4")
int recvmsg4(struct bpf_sock_addr *ctx)
{
	if (!restore4(ctx))
		remember_peer(ctx, 0);
	return 1;
}

SEC("cgroup/recvmsg6")
int recvmsg6(struct bpf_sock_addr *ctx)
{
	if (!restore6(ctx))
		remember_peer(ctx, 1);
	return 1;
}

SEC("cgroup/getpeername4")
int getpeername4(struct bpf_sock_addr *ctx)
{
	restore4(ctx);
	return 1;
}

SEC("cgroup/getpeername6")
int getpeername6(struct bpf_sock_addr *ctx)
{
	restore6(ctx);
	return 1;
}

/* climbs reports whether the socket path p has a ".." component: a rule
 * for a directory ("/dir/" as a prefix) must not let "/dir/../x" out of
 * it. ("." and duplicate slashes cannot leave the directory.) */
static __always_inline int climbs(const char *p)
{
	for (int i = 1; i + 2 < UNIX_PATH_MAX; i++) {
		char c = p[i];
		if (c == 0)
			return 0;
		if (c == '.' && p[i - 1] == '/' && p[i + 1] == '.' && (p[i + 2] == '/' || p[i + 2] == 0))
			return 1;
	}
	return 0;
}

/* handle_unix records and judges a connect or sendmsg on a unix socket by
 * path. Denied unix attempts fail with EPERM in both fault modes; an
 * allowed connect is followed to its outcome (exit_connect). A path with
 * a ".." component is denied whatever the rules say, unless they allow
 * everything. */
static __always_inline int handle_unix(struct bpf_sock_addr *ctx, int is_connect)
{
	struct run *r = current_run();
	if (!r)
		return unattributed();
	__u32 run = r->id, slot = r->slot;
	int ok = r->cfg.allow_all ? 1 : 0;
	__u32 zero = 0;
	struct unix_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return ok;
	struct unix_key *k = &s->key;
	struct bpf_sock_addr_kern *sa = bpf_cast_to_kern_ctx(ctx);
	__u32 len = sa->uaddrlen;
	const void *ua = sa->uaddr;
	__u32 n = len > 2 ? len - 2 : 0; /* bytes of sun_path given */
	if (n > UNIX_PATH_MAX)
		n = UNIX_PATH_MAX;
	__builtin_memset(k, 0, sizeof(*k));
	/* Canonical form, without loops (they make verification slow): an
	 * abstract name is its n bytes with '@' for the leading NUL; a path
	 * ends at its first NUL. Bytes after the name stay 0. */
	char first = 0;
	if (n >= 1 && n <= UNIX_PATH_MAX)
		bpf_probe_read_kernel(&first, 1, ua + 2);
	if (first == 0 && n >= 1 && n <= UNIX_PATH_MAX) {
		bpf_probe_read_kernel(k->path, n, ua + 2);
		k->path[0] = '@';
	} else if (n >= 1 && n <= UNIX_PATH_MAX) {
		__builtin_memset(s->path, 0, sizeof(s->path));
		bpf_probe_read_kernel_str(s->path, n + 1, ua + 2);
		__builtin_memcpy(k->path, s->path, UNIX_PATH_MAX);
	}
	bpf_get_current_comm(k->comm, sizeof(k->comm));

	if (!ok) {
		void *rules = bpf_map_lookup_elem(&unix_rules, &slot);
		if (rules) {
			s->lpm.prefixlen = UNIX_PATH_MAX * 8;
			__builtin_memcpy(s->lpm.path, k->path, UNIX_PATH_MAX);
			ok = bpf_map_lookup_elem(rules, &s->lpm) != NULL;
		}
		if (ok && climbs(k->path))
			ok = 0;
	}
	k->verdict = ok ? V_ALLOWED : V_DENIED;
	k->failure = ok ? F_NONE : F_EPERM;
	record_unix(run, slot, k);
	if (ok && is_connect) {
		__u64 tid = bpf_get_current_pid_tgid();
		struct unix_conn *c = &s->conn;
		c->run = run;
		c->slot = slot;
		__builtin_memcpy(&c->key, k, sizeof(*k));
		bpf_map_update_elem(&unix_pending, &tid, c, BPF_ANY);
	}
	return ok;
}

SEC("cgroup/connect_unix")
int connect_unix(struct bpf_sock_addr *ctx) { return handle_unix(ctx, 1); }

SEC("cgroup/sendmsg_unix")
int sendmsg_unix(struct bpf_sock_addr *ctx) { return handle_unix(ctx, 0); }

/* sock_create refuses inet sockets the address hooks cannot see: raw,
 * ICMP, SCTP, ... Only TCP, MPTCP, UDP and UDP-Lite pass. */
SEC("cgroup/sock_create")
int sock_create(struct bpf_sock *sk)
{
	__u32 type = sk->type, proto = sk->protocol;
	if (type == SOCK_STREAM && (proto == IPPROTO_TCP || proto == IPPROTO_MPTCP))
		return 1;
	if (type == SOCK_DGRAM && (proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE))
		return 1;
	struct run *r = current_run();
	if (!r)
		return unattributed();
	__u32 run = r->id, slot = r->slot;
	int all = r->cfg.allow_all ? 1 : 0;
	__u64 tid = bpf_get_current_pid_tgid();
	struct sock_args *a = bpf_map_lookup_elem(&socket_calls, &tid);
	if (a)
		a->hooked = 1;
	struct inet_key k = {};
	k.proto = P_RAW;
	k.family = sk->family;
	k.port = type;
	k.raw_proto = proto;
	k.verdict = all ? V_ALLOWED : V_DENIED;
	k.failure = all ? F_NONE : F_EPERM;
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	record_inet(run, slot, &k);
	return all;
}

/* egress tells the stub who sent a redirected DNS packet: it files the
 * socket's origin under the run and the packet's source address and
 * port. */
SEC("cgroup_skb/egress")
int egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	struct origin *o = bpf_sk_storage_get(&origins, sk, 0, 0);
	if (!o)
		return 1;

	struct client_key ck = {};
	__u8 l4;
	__u32 off;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u8 h[20];
		if (bpf_skb_load_bytes(skb, 0, h, sizeof(h)))
			return 1;
		__u32 dst;
		__builtin_memcpy(&dst, &h[16], 4);
		if (o->stub_family != 4 || dst != o->stub_addr[0])
			return 1;
		l4 = h[9];
		off = (h[0] & 0xf) * 4;
		ck.family = 4;
		__builtin_memcpy(ck.addr, &h[12], 4);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		__u8 h[40];
		if (bpf_skb_load_bytes(skb, 0, h, sizeof(h)))
			return 1;
		__u32 d[4];
		__builtin_memcpy(d, &h[24], 16);
		if (o->stub_family != 6 || d[0] != o->stub_addr[0] || d[1] != o->stub_addr[1] ||
		    d[2] != o->stub_addr[2] || d[3] != o->stub_addr[3])
			return 1;
		l4 = h[6];
		off = 40;
		ck.family = 6;
		__builtin_memcpy(ck.addr, &h[8], 16);
	} else {
		return 1;
	}
	if (l4 == IPPROTO_TCP)
		ck.proto = P_TCP;
	else if (l4 == IPPROTO_UDP)
		ck.proto = P_UDP;
	else
		return 1;
	__u16 ports[2];
	if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)))
		return 1;
	if (ports[1] != o->stub_port)
		return 1;
	ck.port = bpf_ntohs(ports[0]);
	ck.run = o->run;
	bpf_map_update_elem(&dns_clients, &ck, o, BPF_ANY);
	return 1;
}

/* Tracepoint records, as laid out in /sys/kernel/tracing/events/.../format. */
struct tp_sys_enter_socket {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 family;
	__u64 type;
	__u64 protocol;
};

struct tp_sys_exit {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

struct tp_inet_sock_set_state {
	__u64 common;
	__u64 skaddr;
	__s32 oldstate;
	__s32 newstate;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u16 protocol;
};

/* enter_socket notes socket() calls in a run that the address hooks
 * cannot follow: families other than unix, inet, netlink and alg
 * (packet, XDP, vsock, ...), and inet sockets other than TCP and UDP,
 * which the kernel may refuse before sock_create runs (ping sockets
 * outside ping_group_range, raw sockets without CAP_NET_RAW). */
SEC("tracepoint/syscalls/sys_enter_socket")
int enter_socket(struct tp_sys_enter_socket *ctx)
{
	__u32 fam = ctx->family, type = ctx->type & 0xf, proto = ctx->protocol;
	if (fam == AF_UNIX || fam == AF_NETLINK || fam == AF_ALG)
		return 0;
	if (fam == AF_INET || fam == AF_INET6) {
		if (type == SOCK_STREAM && (proto == 0 || proto == IPPROTO_TCP || proto == IPPROTO_MPTCP))
			return 0;
		if (type == SOCK_DGRAM && (proto == 0 || proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE))
			return 0;
	}
	struct run *r = current_run();
	if (!r)
		return 0;
	struct sock_args a = {.family = fam, .type = type, .protocol = proto, .run = r->id, .slot = r->slot};
	__u64 tid = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&socket_calls, &tid, &a, BPF_ANY);
	return 0;
}

/* exit_socket records those calls with whether creation succeeded, unless
 * sock_create already did. */
SEC("tracepoint/syscalls/sys_exit_socket")
int exit_socket(struct tp_sys_exit *ctx)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct sock_args *a = bpf_map_lookup_elem(&socket_calls, &tid);
	if (!a)
		return 0;
	struct inet_key k = {};
	k.proto = P_RAW;
	k.family = a->family;
	k.port = a->type;
	k.raw_proto = a->protocol;
	__u32 hooked = a->hooked, run = a->run, slot = a->slot;
	bpf_map_delete_elem(&socket_calls, &tid);
	if (hooked || !slot_holds(slot, run))
		return 0; /* sock_create recorded it, or the run is gone */
	__s64 ret = ctx->ret;
	if (ret >= 0) {
		k.verdict = V_ALLOWED;
	} else if (ret == -EPERM || ret == -EACCES) {
		k.verdict = V_DENIED;
		k.failure = F_EPERM;
	} else {
		return 0; /* e.g. EAFNOSUPPORT: nothing was created */
	}
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	record_inet(run, slot, &k);
	return 0;
}

static __always_inline __u32 outcome_of(int err)
{
	switch (err) {
	case 0:
		return O_ABANDONED;
	case ECONNREFUSED:
		return O_REFUSED;
	case ETIMEDOUT:
		return O_TIMEOUT;
	case ENETUNREACH:
	case EHOSTUNREACH:
		return O_UNREACHABLE;
	case ECONNRESET:
		return O_RESET;
	}
	return O_ERROR;
}

/* set_state follows allowed TCP connects from SYN_SENT to their end. */
SEC("tracepoint/sock/inet_sock_set_state")
int set_state(struct tp_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	__u64 skaddr = ctx->skaddr;
	if (ctx->oldstate == TCP_CLOSE && ctx->newstate == TCP_SYN_SENT) {
		__u64 tid = bpf_get_current_pid_tgid();
		struct conn *c = bpf_map_lookup_elem(&pending, &tid);
		if (!c)
			return 0;
		bpf_map_update_elem(&connecting, &skaddr, c, BPF_ANY);
		bpf_map_delete_elem(&pending, &tid);
		return 0;
	}
	if (ctx->oldstate != TCP_SYN_SENT)
		return 0;
	struct conn *cp = bpf_map_lookup_elem(&connecting, &skaddr);
	if (!cp)
		return 0;
	struct conn c = *cp;
	bpf_map_delete_elem(&connecting, &skaddr);
	__u32 o;
	if (ctx->newstate == TCP_ESTABLISHED) {
		o = O_ESTABLISHED;
	} else if (ctx->newstate == TCP_CLOSE) {
		int err = 0;
		bpf_core_read(&err, sizeof(err), &((struct sock *)skaddr)->sk_err);
		o = outcome_of(err);
	} else {
		return 0;
	}
	record_outcome(&c, o);
	return 0;
}

/* unix_outcome_of maps the result of a unix connect to an outcome, or
 * O_N for a connect still under way (a full backlog of a non-blocking
 * caller). */
static __always_inline __u32 unix_outcome_of(__s64 ret)
{
	switch (ret) {
	case 0:
		return O_ESTABLISHED;
	case -ENOENT:
	case -ENOTDIR:
		return O_ABSENT;
	case -ECONNREFUSED:
		return O_REFUSED;
	case -EAGAIN:
	case -EINPROGRESS:
		return O_N;
	}
	return O_ERROR;
}

/* exit_connect records how allowed unix connects ended, and catches
 * allowed TCP connects that failed before a SYN was sent (no route, no
 * source address). */
SEC("tracepoint/syscalls/sys_exit_connect")
int exit_connect(struct tp_sys_exit *ctx)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct unix_conn *uc = bpf_map_lookup_elem(&unix_pending, &tid);
	if (uc) {
		__u32 o = unix_outcome_of(ctx->ret);
		if (o < O_N)
			record_unix_outcome(uc, o);
		bpf_map_delete_elem(&unix_pending, &tid);
		return 0;
	}
	struct conn *cp = bpf_map_lookup_elem(&pending, &tid);
	if (!cp)
		return 0;
	struct conn c = *cp;
	bpf_map_delete_elem(&pending, &tid);
	__s64 ret = ctx->ret;
	if (ret == 0 || ret == -EINPROGRESS)
		return 0;
	record_outcome(&c, outcome_of(-ret));
	return 0;
}
