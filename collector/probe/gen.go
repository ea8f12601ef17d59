package probe

//go:generate go tool bpf2go -tags linux -target bpfel,bpfeb -type inet_event -type unix_event -type inet_key -type unix_key -type attempt_val -type lpm_net_key -type net_rule -type lpm_unix_key -type config probe probe.c -- -I./headers
