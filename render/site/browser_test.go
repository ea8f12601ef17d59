package site

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium returns a Chromium or Chrome binary on PATH, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// headless runs the browser on a file with the network cut off and
// returns its standard output.
func headless(t *testing.T, bin, profile string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless=new", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
		"--user-data-dir=" + profile, "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9"}
	if os.Geteuid() == 0 {
		base = append(base, "--no-sandbox") // Chromium refuses to run as root otherwise
	}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// TestBrowser loads the site in a real headless browser, offline: pages
// load, the fleet page's drawing is in the DOM and actually painted (its
// cycle-red strokes show in a screenshot), and service pages link back.
// It skips without Chromium (Debian: apt-get install chromium).
func TestBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium on PATH; install Debian's chromium to check the pages in a real browser")
	}
	dir := t.TempDir()
	if err := Write(context.Background(), dir, exampleSite(t)); err != nil {
		t.Fatal(err)
	}
	profile := t.TempDir()
	url := func(p string) string { return "file://" + filepath.Join(dir, p) }

	dom := string(headless(t, bin, profile, "--dump-dom", url("index.html")))
	for _, want := range []string{"<svg", `class="node"`, "Recovery runbook · release 2024.06", `href="services/ca.html"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("fleet page DOM lacks %q", want)
		}
	}
	dom = string(headless(t, bin, profile, "--dump-dom", url("services/kube_api.html")))
	if !strings.Contains(dom, `href="../index.html"`) || !strings.Contains(dom, "kubectl apply -f &lt;manifests&gt;") {
		t.Errorf("service page DOM lacks its back link or its runbook step:\n%.2000s", dom)
	}

	shot := filepath.Join(t.TempDir(), "index.png")
	headless(t, bin, profile, "--window-size=1200,2400", "--screenshot="+shot, url("index.html"))
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// The drawing's cycle strokes are #d62728; nothing else on the page
	// has that colour.
	red := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, 0xd6) && near(g>>8, 0x27) && near(bl>>8, 0x28) {
				red++
			}
		}
	}
	t.Logf("%d pixels of cycle red in the screenshot", red)
	if red < 50 {
		t.Errorf("screenshot has %d pixels of cycle red; the drawing did not render", red)
	}
}

func near(v uint32, want int) bool { d := int(v) - want; return d > -12 && d < 12 }
