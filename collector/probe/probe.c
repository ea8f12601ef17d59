//go:build ignore

/* rgraph's first-hop recorder and allowlist enforcer. Attached to one
 * cgroup v2 directory by probe_linux.go; see doc.go for what each program
 * does and why. */

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
#define EEXIST 17
#define ENETUNREACH 101
#define ECONNRESET 104
#define ETIMEDOUT 110
#define ECONNREFUSED 111
#define EHOSTUNREACH 113
#define EINPROGRESS 115

#define TASK_COMM_LEN 16
#define UNIX_PATH_MAX 108
#define MAX_RANGES 16

/* Values of inet_key.proto. */
enum proto { P_TCP = 1, P_UDP = 2, P_RAW = 3 };
/* Values of the verdict fields. */
enum verdict { V_ALLOWED = 1, V_DENIED = 2, V_REDIRECTED = 3 };
/* Values of the failure fields: how a denied attempt fails. */
enum failure { F_NONE = 0, F_EPERM = 1, F_DROPPED = 2 };
/* How an allowed TCP connect ended; indexes attempt_val.outcome. */
enum outcome { O_ESTABLISHED, O_REFUSED, O_TIMEOUT, O_UNREACHABLE, O_RESET, O_ABANDONED, O_ERROR, O_N };
/* Loss counters (per CPU, only ever increased). */
enum counter {
	C_MAP_FULL,     /* an attempt did not fit in its dedup map */
	C_RINGBUF_FULL, /* a ring buffer reservation failed */
	C_LOST,         /* both: the attempt is recorded nowhere */
	C_N,
};
/* Event kinds on the ring buffer. */
enum kind { EV_INET = 1, EV_UNIX = 2, EV_OUTCOME = 3 };
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
	__u32 pad;
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
};

struct inet_event {
	struct event_hdr hdr;
	struct inet_key key;
};

struct unix_event {
	struct event_hdr hdr;
	struct unix_key key;
};

/* Per-socket memory of a DNS redirect: the resolver the caller addressed. */
struct origin {
	__u8 family; /* 4 or 6 */
	__u8 pad;
	__u16 port;  /* host order */
	__u32 pid;
	__u64 cgroup;
	__u8 addr[16];
	char comm[TASK_COMM_LEN];
};

/* The key under which the stub finds an origin: the client's source. */
struct client_key {
	__u8 proto; /* P_TCP or P_UDP */
	__u8 family;
	__u16 port; /* host order */
	__u8 addr[16];
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

struct sock_args {
	__u32 family;
	__u32 type;
	__u32 protocol;
	__u32 hooked; /* sock_create saw (and recorded) this call */
};

/* Set by the loader before the programs are loaded; addresses and ports
 * in network byte order. */
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

volatile const struct config cfg;

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1); /* sized by the loader */
	__type(key, struct lpm_net_key);
	__type(value, struct net_rule);
} net_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1); /* sized by the loader */
	__type(key, struct lpm_unix_key);
	__type(value, __u8);
} unix_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct inet_key);
	__type(value, struct attempt_val);
} inet_attempts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct unix_key);
	__type(value, struct attempt_val);
} unix_attempts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, C_N);
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

/* Allowed TCP connects between the hook and SYN_SENT, by thread. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct inet_key);
} pending SEC(".maps");

/* Allowed TCP connects in SYN_SENT, by kernel socket address. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct inet_key);
} connecting SEC(".maps");

/* socket() arguments of threads in the cgroup, between enter and exit. */
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
	char path[UNIX_PATH_MAX + 8]; /* room for a NUL after a full sun_path */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unix_scratch);
} scratch SEC(".maps");

/* The cgroup the probe is attached to, for the tracepoints. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroups SEC(".maps");

/* Put the event types into BTF so bpf2go generates Go types for them. */
const struct inet_event *unused_inet_event __attribute__((unused));
const struct unix_event *unused_unix_event __attribute__((unused));

static __always_inline void bump(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &c);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline void fill_hdr(struct event_hdr *h, __u8 kind, __u8 flags)
{
	h->kind = kind;
	h->flags = flags;
	h->outcome = 0;
	h->pad = 0;
	h->pid = bpf_get_current_pid_tgid() >> 32;
	h->ts = bpf_ktime_get_ns();
	h->cgroup = bpf_get_current_cgroup_id();
}

/* count counts an attempt in a dedup map. It returns -1 when the key was
 * already there (nothing more to do), 0 when it added the key, and
 * EVF_OVERFLOW when the map is full: the ring buffer must carry it. */
static __always_inline int count(void *map, const void *k)
{
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
	};
	long err = bpf_map_update_elem(map, k, &nv, BPF_NOEXIST);
	if (err == -EEXIST) { /* another CPU added it meanwhile */
		v = bpf_map_lookup_elem(map, k);
		if (v)
			__sync_fetch_and_add(&v->count, 1);
		return -1;
	}
	if (err) {
		bump(C_MAP_FULL);
		return EVF_OVERFLOW;
	}
	return 0;
}

/* ringbuf_full counts a failed reservation, and a loss when the attempt
 * is in no map either. */
static __always_inline void ringbuf_full(int flags)
{
	bump(C_RINGBUF_FULL);
	if (flags & EVF_OVERFLOW)
		bump(C_LOST);
}

/* record_inet counts an attempt in the dedup map and announces a new key
 * (or one the full map could not take) on the ring buffer. */
static __always_inline void record_inet(struct inet_key *k)
{
	int flags = count(&inet_attempts, k);
	if (flags < 0)
		return;
	struct inet_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ringbuf_full(flags);
		return;
	}
	fill_hdr(&e->hdr, EV_INET, flags);
	__builtin_memcpy(&e->key, k, sizeof(*k));
	bpf_ringbuf_submit(e, 0);
}

/* record_unix is record_inet for unix socket attempts. */
static __always_inline void record_unix(struct unix_key *k)
{
	int flags = count(&unix_attempts, k);
	if (flags < 0)
		return;
	struct unix_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ringbuf_full(flags);
		return;
	}
	fill_hdr(&e->hdr, EV_UNIX, flags);
	__builtin_memcpy(&e->key, k, sizeof(*k));
	bpf_ringbuf_submit(e, 0);
}

/* record_outcome adds how an allowed TCP connect ended to its attempt. */
static __always_inline void record_outcome(struct inet_key *k, __u32 o)
{
	if (o >= O_N)
		return;
	struct attempt_val *v = bpf_map_lookup_elem(&inet_attempts, k);
	if (v) {
		__sync_fetch_and_add(&v->outcome[o], 1);
		return;
	}
	struct inet_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ringbuf_full(EVF_OVERFLOW);
		return;
	}
	fill_hdr(&e->hdr, EV_OUTCOME, EVF_OVERFLOW);
	e->hdr.outcome = o;
	e->key = *k;
	bpf_ringbuf_submit(e, 0);
}

/* allowed checks a destination against the address rules. addr holds the
 * address (IPv4 in its first 4 bytes), port is in host order. */
static __always_inline int allowed(__u8 family, const __u8 *addr, __u16 port, __u8 proto)
{
	if (cfg.allow_all)
		return 1;
	struct lpm_net_key lk = {};
	lk.prefixlen = 8 + (family == 4 ? 32 : 128);
	lk.data[0] = family;
	__builtin_memcpy(&lk.data[1], addr, 16);
	struct net_rule *r = bpf_map_lookup_elem(&net_rules, &lk);
	if (!r)
		return 0;
	__u8 bit = proto == P_TCP ? 1 : 2;
	for (int i = 0; i < MAX_RANGES; i++) {
		if (i >= r->n)
			break;
		if (port >= r->r[i].lo && port <= r->r[i].hi && (r->r[i].protos & bit))
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

static __always_inline void remember_origin(struct bpf_sock_addr *ctx, struct inet_key *k)
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
}

/* handle_inet records and judges a connect or an unconnected sendmsg. v6
 * says which context fields hold the address. It returns 1 to let the
 * call proceed (possibly rewritten) and 0 to fail it with EPERM. */
static __always_inline int handle_inet(struct bpf_sock_addr *ctx, int v6, int is_connect)
{
	__u8 proto = proto_of(ctx);
	if (!proto)
		return cfg.allow_all; /* e.g. ICMP sockets, judged at creation */

	/* Branch on the locals fam and port, not on k's fields: k escapes to
	 * bpf_get_current_comm, so the compiler (and the verifier) would no
	 * longer know them, and keep IPv6 context writes in IPv4 programs. */
	struct inet_key k = {};
	__u8 fam;
	__u16 port = bpf_ntohs(ctx->user_port);
	if (!v6) {
		fam = 4;
		__u32 a = ctx->user_ip4;
		__builtin_memcpy(k.addr, &a, 4);
	} else {
		__u32 a0 = ctx->user_ip6[0], a1 = ctx->user_ip6[1], a2 = ctx->user_ip6[2], a3 = ctx->user_ip6[3];
		if (a0 == 0 && a1 == 0 && a2 == 0xffff0000) { /* ::ffff:a.b.c.d, network order */
			fam = 4;
			__builtin_memcpy(k.addr, &a3, 4);
		} else {
			fam = 6;
			__builtin_memcpy(&k.addr[0], &a0, 4);
			__builtin_memcpy(&k.addr[4], &a1, 4);
			__builtin_memcpy(&k.addr[8], &a2, 4);
			__builtin_memcpy(&k.addr[12], &a3, 4);
		}
	}
	k.proto = proto;
	k.family = fam;
	k.port = port;
	bpf_get_current_comm(k.comm, sizeof(k.comm));

	/* Every port-53 attempt goes to the stub, which records the name. */
	if (port == 53) {
		if (fam == 4 && cfg.dns4_on) {
			k.verdict = V_REDIRECTED;
			remember_origin(ctx, &k);
			if (!v6) {
				ctx->user_ip4 = cfg.dns4_ip;
			} else {
				ctx->user_ip6[0] = 0;
				ctx->user_ip6[1] = 0;
				ctx->user_ip6[2] = 0xffff0000;
				ctx->user_ip6[3] = cfg.dns4_ip;
			}
			ctx->user_port = cfg.dns4_port;
			record_inet(&k);
			return 1;
		}
		if (v6 && fam == 6 && cfg.dns6_on) {
			k.verdict = V_REDIRECTED;
			remember_origin(ctx, &k);
			ctx->user_ip6[0] = cfg.dns6_ip[0];
			ctx->user_ip6[1] = cfg.dns6_ip[1];
			ctx->user_ip6[2] = cfg.dns6_ip[2];
			ctx->user_ip6[3] = cfg.dns6_ip[3];
			ctx->user_port = cfg.dns6_port;
			record_inet(&k);
			return 1;
		}
	}

	if (allowed(fam, k.addr, port, proto)) {
		k.verdict = V_ALLOWED;
		record_inet(&k);
		if (is_connect && proto == P_TCP) {
			__u64 tid = bpf_get_current_pid_tgid();
			bpf_map_update_elem(&pending, &tid, &k, BPF_ANY);
		}
		return 1;
	}

	k.verdict = V_DENIED;
	if (cfg.blackhole) {
		if (fam == 4 && cfg.bh4_on) {
			k.failure = F_DROPPED;
			record_inet(&k);
			if (!v6) {
				ctx->user_ip4 = cfg.bh4_ip;
			} else {
				ctx->user_ip6[0] = 0;
				ctx->user_ip6[1] = 0;
				ctx->user_ip6[2] = 0xffff0000;
				ctx->user_ip6[3] = cfg.bh4_ip;
			}
			return 1;
		}
		if (v6 && fam == 6 && cfg.bh6_on) {
			k.failure = F_DROPPED;
			record_inet(&k);
			ctx->user_ip6[0] = cfg.bh6_ip[0];
			ctx->user_ip6[1] = cfg.bh6_ip[1];
			ctx->user_ip6[2] = cfg.bh6_ip[2];
			ctx->user_ip6[3] = cfg.bh6_ip[3];
			return 1;
		}
	}
	k.failure = F_EPERM;
	record_inet(&k);
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
 * connected socket, look like the resolver the caller addressed. */
static __always_inline int restore4(struct bpf_sock_addr *ctx)
{
	if (!cfg.dns4_on || ctx->user_ip4 != cfg.dns4_ip || ctx->user_port != cfg.dns4_port)
		return 1;
	struct origin *o = bpf_sk_storage_get(&origins, ctx->sk, 0, 0);
	if (!o || o->family != 4)
		return 1;
	__u32 a;
	__builtin_memcpy(&a, o->addr, 4);
	ctx->user_ip4 = a;
	ctx->user_port = bpf_htons(o->port);
	return 1;
}

static __always_inline int restore6(struct bpf_sock_addr *ctx)
{
	__u32 a0 = ctx->user_ip6[0], a1 = ctx->user_ip6[1], a2 = ctx->user_ip6[2], a3 = ctx->user_ip6[3];
	__u32 port = ctx->user_port;
	int is4;
	if (cfg.dns4_on && a0 == 0 && a1 == 0 && a2 == 0xffff0000 && a3 == cfg.dns4_ip && port == cfg.dns4_port)
		is4 = 1;
	else if (cfg.dns6_on && a0 == cfg.dns6_ip[0] && a1 == cfg.dns6_ip[1] && a2 == cfg.dns6_ip[2] &&
		 a3 == cfg.dns6_ip[3] && port == cfg.dns6_port)
		is4 = 0;
	else
		return 1;
	struct origin *o = bpf_sk_storage_get(&origins, ctx->sk, 0, 0);
	if (!o || o->family != (is4 ? 4 : 6))
		return 1;
	__u32 w[4];
	__builtin_memcpy(w, o->addr, 16);
	if (is4) {
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

SEC("cgroup/recvmsg4")
int recvmsg4(struct bpf_sock_addr *ctx) { return restore4(ctx); }

SEC("cgroup/recvmsg6")
int recvmsg6(struct bpf_sock_addr *ctx) { return restore6(ctx); }

SEC("cgroup/getpeername4")
int getpeername4(struct bpf_sock_addr *ctx) { return restore4(ctx); }

SEC("cgroup/getpeername6")
int getpeername6(struct bpf_sock_addr *ctx) { return restore6(ctx); }

/* handle_unix records and judges a connect or sendmsg on a unix socket by
 * path. Denied unix attempts fail with EPERM in both fault modes. */
static __always_inline int handle_unix(struct bpf_sock_addr *ctx)
{
	__u32 zero = 0;
	struct unix_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return cfg.allow_all;
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

	int ok = cfg.allow_all;
	if (!ok) {
		s->lpm.prefixlen = UNIX_PATH_MAX * 8;
		__builtin_memcpy(s->lpm.path, k->path, UNIX_PATH_MAX);
		ok = bpf_map_lookup_elem(&unix_rules, &s->lpm) != NULL;
	}
	k->verdict = ok ? V_ALLOWED : V_DENIED;
	k->failure = ok ? F_NONE : F_EPERM;
	record_unix(k);
	return ok;
}

SEC("cgroup/connect_unix")
int connect_unix(struct bpf_sock_addr *ctx) { return handle_unix(ctx); }

SEC("cgroup/sendmsg_unix")
int sendmsg_unix(struct bpf_sock_addr *ctx) { return handle_unix(ctx); }

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
	__u64 tid = bpf_get_current_pid_tgid();
	struct sock_args *a = bpf_map_lookup_elem(&socket_calls, &tid);
	if (a)
		a->hooked = 1;
	struct inet_key k = {};
	k.proto = P_RAW;
	k.family = sk->family;
	k.port = type;
	k.raw_proto = proto;
	k.verdict = cfg.allow_all ? V_ALLOWED : V_DENIED;
	k.failure = cfg.allow_all ? F_NONE : F_EPERM;
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	record_inet(&k);
	return cfg.allow_all;
}

/* egress tells the stub who sent a redirected DNS packet: it files the
 * socket's origin under the packet's source address and port. */
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
		if (!cfg.dns4_on || dst != cfg.dns4_ip)
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
		if (!cfg.dns6_on || d[0] != cfg.dns6_ip[0] || d[1] != cfg.dns6_ip[1] || d[2] != cfg.dns6_ip[2] ||
		    d[3] != cfg.dns6_ip[3])
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
	__u16 want = ck.family == 4 ? cfg.dns4_port : cfg.dns6_port;
	if (ports[1] != want)
		return 1;
	ck.port = bpf_ntohs(ports[0]);
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

/* enter_socket notes socket() calls in the cgroup that the address
 * hooks cannot follow: families other than unix, inet, netlink and alg
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
	if (bpf_current_task_under_cgroup(&cgroups, 0) != 1)
		return 0;
	struct sock_args a = {.family = fam, .type = type, .protocol = proto};
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
	__u32 hooked = a->hooked;
	bpf_map_delete_elem(&socket_calls, &tid);
	if (hooked)
		return 0; /* sock_create recorded it */
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
	record_inet(&k);
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
		struct inet_key *k = bpf_map_lookup_elem(&pending, &tid);
		if (!k)
			return 0;
		bpf_map_update_elem(&connecting, &skaddr, k, BPF_ANY);
		bpf_map_delete_elem(&pending, &tid);
		return 0;
	}
	if (ctx->oldstate != TCP_SYN_SENT)
		return 0;
	struct inet_key *kp = bpf_map_lookup_elem(&connecting, &skaddr);
	if (!kp)
		return 0;
	struct inet_key k = *kp;
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
	record_outcome(&k, o);
	return 0;
}

/* exit_connect catches allowed TCP connects that failed before a SYN was
 * sent (no route, no source address). */
SEC("tracepoint/syscalls/sys_exit_connect")
int exit_connect(struct tp_sys_exit *ctx)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct inet_key *kp = bpf_map_lookup_elem(&pending, &tid);
	if (!kp)
		return 0;
	struct inet_key k = *kp;
	bpf_map_delete_elem(&pending, &tid);
	__s64 ret = ctx->ret;
	if (ret == 0 || ret == -EINPROGRESS)
		return 0;
	record_outcome(&k, outcome_of(-ret));
	return 0;
}
