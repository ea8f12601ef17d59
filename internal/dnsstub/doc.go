// Package dnsstub is rgraph's own DNS stub resolver. The sandbox runs it
// inside the run's network namespace, and the probe (collector/probe)
// redirects every port-53 attempt of the sandboxed processes to it, so
// that every DNS question is recorded by name and type, whether or not it
// is allowed, including questions from programs that bypass
// /etc/resolv.conf and questions over TCP.
//
// For each question the stub records one [collector.Attempt] with
// Protocol dns, DNSName and DNSType, Address and Port set to the resolver
// the caller addressed (learned through Config.Attribute, which the
// sandbox wires to probe.Probe.DNSOrigin), the process that asked, and a
// verdict: allowed when [collector.Rules.AllowsQuestion] allows the name
// given whether that resolver is allowed, denied otherwise. Allowed
// questions are forwarded (Config.Forward, by default a [Forwarder] that
// sends the query to the resolver the caller addressed) and the answer is
// relayed unchanged; a failed forward is answered SERVFAIL and recorded
// with Failure "servfail". Denied questions are answered REFUSED in
// reject mode (Failure "refused") and not at all in blackhole mode
// (Failure "dropped"), so the caller waits as in a real outage.
//
// The stub also learns whether a name exists upstream: an allowed
// question every answer of which was NXDOMAIN is recorded with Failure
// "nxdomain" and Upstream [collector.UpstreamAbsent]; with
// Config.AskDenied a denied question is asked upstream once, in the
// background, and an NXDOMAIN answer marks it absent too. That answer is
// rgraph's, never relayed to the caller.
//
// The stub holds no kernel resources; the sandbox creates its listening
// sockets inside the network namespace and passes them to [Serve], and
// passes a Forwarder whose Dial creates sockets in that namespace, so
// forwarded queries follow the sandbox's routes. It needs no privileges
// and runs on any OS.
package dnsstub
