package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

// OrderMarkdown writes a recovery plan as Markdown, for a wiki page or an
// incident channel: a heading naming the release, the waves as a table
// with jumpstart groups, the critical path, the member each alternative
// group waits for, the unowned endpoints, and the runbooks wave by wave.
// Every runbook step is a fenced code block holding the step exactly as
// typed (the fence is longer than any run of backticks in it), so copying
// it copies the step; nothing is abbreviated. Names are in code spans.
func OrderMarkdown(w io.Writer, release string, o graph.Order, runbooks ...Runbook) error {
	o = normalizedOrder(o)
	steps := runbookIndex(runbooks)
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	services, groups := 0, 0
	for _, wv := range o.Waves {
		services += len(wv.Services)
		groups += len(wv.Groups)
	}
	p("### Recovery order · release %s\n\n", mdCode(release))
	p("%s · %s", plural(len(o.Waves), "wave", "waves"), plural(services, "service", "services"))
	if groups > 0 {
		p(" · %s", plural(groups, "jumpstart group", "jumpstart groups"))
	}
	if len(o.Unowned) > 0 {
		p(" · %s", plural(len(o.Unowned), "unowned endpoint", "unowned endpoints"))
	}
	p("\n")
	if len(o.Waves) > 0 {
		p("\n| Wave | Services | Jumpstart |\n|---:|---|---|\n")
		for _, wv := range o.Waves {
			var js []string
			for _, g := range wv.Groups {
				js = append(js, mdCodeCell("{"+strings.Join(g.Members, ", ")+"}"))
			}
			if wv.OverWidth {
				js = append(js, "wider than asked: a group is never split")
			}
			names := make([]string, len(wv.Services))
			for i, s := range wv.Services {
				names[i] = mdCodeCell(s)
			}
			p("| %d | %s | %s |\n", wv.Index, strings.Join(names, ", "), strings.Join(js, " "))
		}
		if groups > 0 {
			p("\nA jumpstart group is a bootstrap cycle: its members need each other and must be started together by hand.\n")
		}
	}
	if cp := o.CriticalPath; len(cp.Services) > 0 {
		var parts []string
		for _, st := range CriticalSteps(o) {
			if len(st) > 1 {
				parts = append(parts, mdCode("{"+strings.Join(st, ", ")+"}"))
			} else {
				parts = append(parts, mdCode(st[0]))
			}
		}
		est := "recovery times unknown"
		if cp.Duration > 0 {
			est = "≈ " + FormatDuration(cp.Duration)
			if len(cp.Defaulted) > 0 {
				est += " (default time for " + mdText(strings.Join(cp.Defaulted, ", ")) + ")"
			}
		}
		p("\n**Critical path** %s: %s\n", est, strings.Join(parts, " → "))
	}
	if len(o.Alternatives) > 0 {
		p("\n#### Alternatives\n\nEach service waits for one member of its group.\n\n| Service | Waits for | Any one of | Why |\n|---|---|---|---|\n")
		for _, c := range o.Alternatives {
			members := make([]string, len(c.AnyOf))
			for i, m := range c.AnyOf {
				members[i] = mdCodeCell(m)
			}
			p("| %s | %s | %s | %s |\n", mdCodeCell(c.Service), mdCodeCell(c.Chosen), strings.Join(members, ", "), mdText(c.Reason.Text()))
		}
	}
	if len(o.Unowned) > 0 {
		p("\n#### Unowned endpoints\n\nIn no catalog service: not recovered by this plan, never waited for.\n\n| Endpoint | Needed by | Records |\n|---|---|---|\n")
		for _, u := range o.Unowned {
			by := make([]string, len(u.NeededBy))
			for i, s := range u.NeededBy {
				by[i] = mdCodeCell(s)
			}
			recs := make([]string, len(u.Records))
			for i, r := range u.Records {
				recs[i] = mdCodeCell(r)
			}
			p("| %s | %s | %s |\n", mdCodeCell(u.Endpoint), strings.Join(by, ", "), strings.Join(recs, ", "))
		}
	}
	if len(steps) > 0 {
		p("\n#### Runbook\n")
		for _, wv := range o.Waves {
			p("\n##### Wave %d\n", wv.Index)
			for _, svc := range wv.Services {
				rb, ok := steps[svc]
				if !ok {
					p("\n%s · no recorded run\n", mdCode(svc))
					continue
				}
				p("\n%s · from %s\n", mdCode(svc), mdText(rb.Source))
				for i, c := range rb.Steps {
					p("\nStep %d:\n\n%s", i+1, mdFence(c, "sh"))
				}
			}
		}
	}
	return bw.Flush()
}

// mdFence returns text as a fenced code block whose content is text
// exactly (with a final line break added when it has none): the fence is
// longer than any run of backticks in text.
func mdFence(text, info string) string {
	longest, run := 0, 0
	for _, r := range text {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return fence + info + "\n" + text + fence + "\n"
}
