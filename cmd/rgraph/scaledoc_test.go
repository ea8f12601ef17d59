package main

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestScaleDocCommands checks that every rgraph command line in the code
// blocks of docs/scale.md (shell, sbatch, CI YAML) names real verbs and
// flags and the right number of arguments: each parses as rgraph parses
// it. rgraph cluster job lines run for real.
func TestScaleDocCommands(t *testing.T) {
	f, err := os.Open("../../docs/scale.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := strings.NewReplacer("${{ matrix.team }}", "platform", "${{ matrix.shard }}", "0", "$TEAM", "platform")
	cmdRE := regexp.MustCompile(`(?:^|[\s/])rgraph\s+([a-z].*)$`)
	var lines []string
	inBlock, cont := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "```") {
			inBlock = !inBlock && l != "```"
			continue
		}
		if !inBlock {
			continue
		}
		l = strings.TrimSpace(l)
		if cont != "" {
			l, cont = cont+" "+l, ""
		}
		if strings.HasSuffix(l, "\\") {
			cont = strings.TrimSuffix(l, "\\")
			continue
		}
		if strings.HasPrefix(l, "#") {
			continue
		}
		if m := cmdRE.FindStringSubmatch(vars.Replace(l)); m != nil {
			lines = append(lines, m[1])
		}
	}
	if len(lines) < 15 {
		t.Fatalf("found %d rgraph command lines in docs/scale.md, want them all (15 or more)", len(lines))
	}
	for _, l := range lines {
		args := shellWords(t, l)
		e := newTestEnv(t, nil)
		root := newRootCmd(e.Env)
		cmd, rest, err := root.Find(args)
		if err != nil || cmd == root {
			t.Errorf("rgraph %s: no such verb (%v)", l, err)
			continue
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Errorf("rgraph %s: %v", l, err)
			continue
		}
		if cmd.Args != nil {
			if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
				t.Errorf("rgraph %s: %v", l, err)
			}
		}
		if strings.HasPrefix(l, "cluster job") {
			if code := e.rgraph(args...); code != exitOK {
				t.Errorf("rgraph %s = exit %d: %s", l, code, e.errOut)
			}
		}
	}
}

// shellWords splits a command line as sh would, for the simple lines of
// the docs: single and double quotes, and nothing after a redirection,
// pipe or comment.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				t.Fatalf("unbalanced quote in %q", s)
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case (c == '>' || c == '|' || c == '#') && !inWord:
			return words
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}
