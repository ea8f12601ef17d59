package dnsstub

import (
	"context"
	"net/netip"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/rgraph/rgraph/collector"
)

func TestCanonicalNameAndType(t *testing.T) {
	tests := []struct {
		name, wantName string
		typ            dnsmessage.Type
		wantType       string
	}{
		{"Example.COM.", "example.com", dnsmessage.TypeA, "A"},
		{".", ".", dnsmessage.TypeNS, "NS"},
		{"x.example.", "x.example", dnsmessage.TypeAAAA, "AAAA"},
		{"_sip._tcp.example.", "_sip._tcp.example", dnsmessage.TypeSRV, "SRV"},
		{"svc.example.", "svc.example", dnsmessage.Type(4242), "TYPE4242"},
	}
	for _, tt := range tests {
		q, err := parseQuery(mkQuery(t, tt.name, tt.typ))
		if err != nil {
			t.Fatalf("parseQuery(%s): %v", tt.name, err)
		}
		if got := q.Questions[0]; got.Name != tt.wantName || got.Type != tt.wantType {
			t.Errorf("question of %s/%v = %+v, want %s/%s", tt.name, tt.typ, got, tt.wantName, tt.wantType)
		}
	}
	// Bytes that are not printable are escaped as \DDD.
	n := dnsmessage.Name{Data: [255]byte{'a', ' ', 'b', '.'}, Length: 4}
	if got := canonicalName(n); got != `a\032b` {
		t.Errorf("canonicalName(%q) = %q", "a b.", got)
	}
}

// seedMessages are DNS messages for the fuzzer's corpus: valid queries,
// EDNS, several questions, a response, truncations, a compression loop.
func seedMessages(t testing.TB) [][]byte {
	a := mkQuery(t, "svc.example.", dnsmessage.TypeA)
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 1, RecursionDesired: true})
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName("a.example."), Type: dnsmessage.TypeAAAA, Class: dnsmessage.ClassINET})
	b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName("b.example."), Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET})
	b.StartAdditionals()
	var opt dnsmessage.ResourceHeader
	opt.SetEDNS0(1232, dnsmessage.RCodeSuccess, true)
	b.OPTResource(opt, dnsmessage.OPTResource{})
	two, _ := b.Finish()
	resp := append([]byte(nil), a...)
	resp[2] |= 0x80
	loop := []byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1}
	return [][]byte{a, two, resp, loop, a[:5], a[:13], {}, make([]byte, 12)}
}

// FuzzParseQuery feeds arbitrary bytes to the parser and to the stub's
// judgement: neither may panic, every recorded name must be printable
// ASCII in lower case, and a REFUSED reply to a parsed query must itself
// parse with the same ID and questions.
func FuzzParseQuery(f *testing.F) {
	for _, m := range seedMessages(f) {
		f.Add(m)
	}
	s := &Stub{
		cfg:      Config{Rules: collector.Rules{AnyResolverNames: []string{"*.example"}}, Fault: collector.FaultReject, MaxAttempts: 1000},
		self:     map[netip.AddrPort]bool{},
		attempts: map[attemptKey]*record{},
		ctx:      context.Background(),
	}
	client := netip.MustParseAddrPort("127.0.0.1:5353")
	local := netip.MustParseAddrPort("127.0.0.53:53")
	f.Fuzz(func(t *testing.T, msg []byte) {
		s.judge(collector.UDP, client, local, msg)
		q, err := parseQuery(msg)
		if err != nil {
			return
		}
		if len(q.Questions) == 0 || len(q.Questions) > maxQuestions {
			t.Fatalf("%d questions parsed", len(q.Questions))
		}
		for _, qq := range q.Questions {
			if qq.Name == "" || qq.Type == "" {
				t.Fatalf("empty question %+v", qq)
			}
			for i := 0; i < len(qq.Name); i++ {
				if c := qq.Name[i]; c <= ' ' || c >= 0x7f || (c >= 'A' && c <= 'Z') {
					t.Fatalf("name %q has byte %#x", qq.Name, c)
				}
			}
		}
		b, err := reply(q, dnsmessage.RCodeRefused)
		if err != nil {
			t.Fatalf("building a reply to a parsed query: %v", err)
		}
		var p dnsmessage.Parser
		h, err := p.Start(b)
		if err != nil {
			t.Fatalf("reply does not parse: %v", err)
		}
		qs, err := p.AllQuestions()
		if err != nil || h.ID != q.Header.ID || !h.Response || h.RCode != dnsmessage.RCodeRefused || len(qs) != len(q.Questions) {
			t.Fatalf("reply %+v with %d questions (%v), want ID %d and %d questions", h, len(qs), err, q.Header.ID, len(q.Questions))
		}
	})
}
