package dnsstub

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// maxQuestions bounds how many questions of one message are looked at.
// Real clients send one; the rest are answered FORMERR.
const maxQuestions = 8

// question is one DNS question in the form the stub records it.
type question struct {
	Name string // lower case, no trailing dot, "." for the root, non-printable bytes as \DDD
	Type string // "A", "AAAA", ..., or "TYPE65" for types without a name
}

// query is what the stub needs from a message it received.
type query struct {
	Header    dnsmessage.Header
	Questions []question
	raw       []dnsmessage.Question
}

var (
	// errShort means the message has no complete header: it is dropped.
	errShort = errors.New("message shorter than a DNS header")
	// errNotQuery means the message is a response or not a standard
	// query; it is answered with an error code, not recorded.
	errNotQuery = errors.New("not a standard query")
)

// parseQuery parses the header and questions of a DNS message. A message
// whose header parses but whose questions do not returns the header and
// an error, so the caller can answer FORMERR.
func parseQuery(b []byte) (query, error) {
	var q query
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil {
		return q, errShort
	}
	q.Header = h
	if h.Response || h.OpCode != 0 {
		return q, errNotQuery
	}
	for {
		rq, err := p.Question()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			break
		}
		if err != nil {
			return q, fmt.Errorf("parsing question: %w", err)
		}
		if len(q.raw) == maxQuestions {
			return q, fmt.Errorf("more than %d questions", maxQuestions)
		}
		q.raw = append(q.raw, rq)
		q.Questions = append(q.Questions, question{Name: canonicalName(rq.Name), Type: typeName(rq.Type)})
	}
	if len(q.Questions) == 0 {
		return q, errors.New("no question")
	}
	return q, nil
}

// canonicalName is the recorded form of a name.
func canonicalName(n dnsmessage.Name) string {
	s := strings.TrimSuffix(n.String(), ".")
	if s == "" {
		return "."
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		case c > ' ' && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	return b.String()
}

// typeName is the mnemonic of a query type ("AAAA"), or "TYPEn" (RFC 3597).
func typeName(t dnsmessage.Type) string {
	s := t.String()
	if name, ok := strings.CutPrefix(s, "Type"); ok {
		return name
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// reply builds a response to q with rcode and no answers: REFUSED for a
// denied question, SERVFAIL when forwarding failed, FORMERR or NOTIMP for
// messages the stub does not judge.
func reply(q query, rcode dnsmessage.RCode) ([]byte, error) {
	h := dnsmessage.Header{
		ID:                 q.Header.ID,
		Response:           true,
		OpCode:             q.Header.OpCode,
		RecursionDesired:   q.Header.RecursionDesired,
		RecursionAvailable: true,
		RCode:              rcode,
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), h)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	for _, rq := range q.raw {
		if err := b.Question(rq); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// newQuery builds a recursive query with a random ID for one question.
func newQuery(q dnsmessage.Question) ([]byte, error) {
	var id [2]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), dnsmessage.Header{ID: uint16(id[0])<<8 | uint16(id[1]), RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	return b.Finish()
}

// responseCode returns the RCODE of resp, a response to query; ok is
// false when resp is no response to it.
func responseCode(resp, query []byte) (rcode dnsmessage.RCode, ok bool) {
	if len(resp) < 12 || len(query) < 2 || resp[0] != query[0] || resp[1] != query[1] || resp[2]&0x80 == 0 {
		return 0, false
	}
	return dnsmessage.RCode(resp[3] & 0x0f), true
}
