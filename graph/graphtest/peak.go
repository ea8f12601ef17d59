package graphtest

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// Peak measures how much resident memory an operation adds at its peak,
// for fleet-scale benchmarks: Reset clears the kernel's high-water mark
// (/proc/self/clear_refs) and notes the resident set, Sample reads the
// high-water mark back. Where /proc is missing it reports -1.
type Peak struct {
	ok        bool
	base, max int64
}

// NewPeak returns a meter; call Reset before each measured operation.
func NewPeak() *Peak {
	_, err := os.Stat("/proc/self/clear_refs")
	return &Peak{ok: err == nil}
}

// Reset collects garbage, returns freed memory to the OS and restarts the
// high-water mark at the current resident set.
func (p *Peak) Reset() {
	if !p.ok {
		return
	}
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		p.ok = false
		return
	}
	p.base = procStatus("VmRSS")
}

// Sample records the memory added since Reset at its peak.
func (p *Peak) Sample() {
	if p.ok {
		p.max = max(p.max, procStatus("VmHWM")-p.base)
	}
}

// Report adds the largest sample to b's results as peak-MB.
func (p *Peak) Report(b *testing.B) {
	if !p.ok {
		b.ReportMetric(-1, "peak-MB")
		return
	}
	b.ReportMetric(float64(p.max)/(1<<20), "peak-MB")
}

// procStatus returns a /proc/self/status field in bytes, or 0.
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
