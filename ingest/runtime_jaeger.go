package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/rgraph/rgraph/graph"
)

// jaegerLink is one Jaeger (or Zipkin) dependency link.
type jaegerLink struct {
	Parent    *string      `json:"parent"`
	Child     *string      `json:"child"`
	CallCount *json.Number `json:"callCount"`
}

func (p *runtimeParser) jaeger() error {
	p.open()
	links := func(field string) error {
		return p.array(field, func(i int, off int64) error {
			f := fmt.Sprintf("%s[%d]", field, i)
			var l jaegerLink
			if err := p.decode(&l); err != nil {
				return err
			}
			from, err := p.service(off, f+".parent", l.Parent)
			if err != nil {
				return err
			}
			to, err := p.service(off, f+".child", l.Child)
			if err != nil {
				return err
			}
			if l.CallCount == nil {
				return p.errAt(off, f+".callCount", "missing")
			}
			n, err := strconv.ParseUint(string(*l.CallCount), 10, 64)
			if err != nil {
				return p.errAt(off, f+".callCount", "want a non-negative integer, got %s", *l.CallCount)
			}
			p.out = append(p.out, graph.Call{From: from, To: to, Calls: n})
			return nil
		})
	}
	t := bytes.TrimLeft(p.src, "\xef\xbb\xbf \t\r\n")
	if len(t) > 0 && t[0] == '[' {
		if err := links(""); err != nil {
			return err
		}
		return p.end()
	}
	if err := p.delim('{', "document"); err != nil {
		return err
	}
	found := false
	var member func(key string) error
	member = func(key string) error {
		switch key {
		case "data", "dependencies":
			found = true
			return links(key)
		case "result": // a gRPC-gateway envelope: {"result": {"dependencies": [...]}}
			if err := p.delim('{', key); err != nil {
				return err
			}
			return p.object(member)
		case "errors":
			var errs []struct {
				Code int    `json:"code"`
				Msg  string `json:"msg"`
			}
			if json.Unmarshal(p.raw(), &errs) == nil && len(errs) > 0 {
				return invalidf("%s: the response reports an error: %s (code %d)", p.name, errs[0].Msg, errs[0].Code)
			}
			return nil
		}
		return p.skip()
	}
	if err := p.object(member); err != nil {
		return err
	}
	if !found {
		return invalidf(`%s: no "data" or "dependencies" array of dependency links`, p.name)
	}
	return p.end()
}
