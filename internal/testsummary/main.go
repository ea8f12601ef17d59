// Command testsummary runs go test with the given arguments and prints
// what plain go test prints (each package's result line, the output of
// failing tests), then a summary of the tests that skipped and why, so
// that an unprivileged `make test` says what it did not test.
//
//	go build -o bin/testsummary ./internal/testsummary && bin/testsummary -count=1 ./...
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// event is one line of go test -json (test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	goTool := os.Getenv("GO") // the Makefile's, else go from PATH
	if goTool == "" {
		goTool = "go"
	}
	cmd := exec.Command(goTool, append([]string{"test", "-json"}, os.Args[1:]...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	skips := summarize(out)
	err = cmd.Wait()
	printSkips(skips)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
}

// summarize copies what plain go test prints from the JSON events and
// returns the reasons of top-level skipped tests, by package and test.
func summarize(r interface{ Read([]byte) (int, error) }) map[string]string {
	skips := map[string]string{}
	logs := map[string][]string{} // package/test -> its output so far
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			fmt.Println(sc.Text())
			continue
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Print(e.Output)
		case e.Test == "" && e.Action == "output":
			if !strings.HasPrefix(e.Output, "=== ") && e.Output != "PASS\n" && e.Output != "FAIL\n" {
				fmt.Print(e.Output)
			}
		case e.Action == "output":
			logs[key] = append(logs[key], e.Output)
		case e.Action == "fail":
			fmt.Print(strings.Join(logs[key], ""))
			delete(logs, key)
		case e.Action == "skip" && e.Test != "" && !strings.Contains(e.Test, "/"):
			skips[key] = skipReason(logs[key])
			delete(logs, key)
		case e.Action == "pass" || e.Action == "skip":
			delete(logs, key)
		}
	}
	return skips
}

// skipReason is the message a skipped test logged, without the file and
// line: the last lines after its --- SKIP line, or its last log line.
func skipReason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		if _, rest, ok := strings.Cut(t, ".go:"); ok {
			if _, m, ok := strings.Cut(rest, ": "); ok {
				t = m
			}
		}
		msg = append(msg, t)
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return msg[len(msg)-1]
}

// printSkips prints the skipped tests grouped by reason, most first.
func printSkips(skips map[string]string) {
	if len(skips) == 0 {
		return
	}
	byReason := map[string][]string{}
	for test, why := range skips {
		pkg, name, _ := strings.Cut(test, " ")
		byReason[why] = append(byReason[why], pkg[strings.LastIndexByte(pkg, '/')+1:]+"."+name)
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if a, b := len(byReason[reasons[i]]), len(byReason[reasons[j]]); a != b {
			return a > b
		}
		return reasons[i] < reasons[j]
	})
	fmt.Printf("\n%d tests skipped:\n", len(skips))
	for _, r := range reasons {
		tests := byReason[r]
		sort.Strings(tests)
		shown := tests
		if len(shown) > 4 {
			shown = append(shown[:4:4], fmt.Sprintf("and %d more", len(tests)-4))
		}
		fmt.Printf("  %d: %s\n     (%s)\n", len(tests), r, strings.Join(shown, ", "))
	}
}
