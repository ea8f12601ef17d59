package probe

//go:generate go tool bpf2go -tags linux -target bpfel -type inet_event -type unix_event probe probe.c -- -I./headers
